import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyStore } from '../../../src-main/core/bundle/keys/index.js';
import type { Drive } from '../../../src-main/core/media/drives/index.js';
import { VenvResultSchema } from '../../../src-main/ipc/contract.js';
import { debianWheels, lacksDebianWheels } from '../../helpers/debian-wheels.js';
import { testBackend } from '../../helpers/ipc-backend.js';
import { makeWheelBundle } from '../../helpers/wheel-bundle.js';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

/** The app's offline side: the Deploy step's "Make the offline virtualenv" button, through IPC. */
describe.skipIf(lacksDebianWheels())('venv.start (the app’s offline virtualenv button)', () => {
  let t: ReturnType<typeof testBackend> | undefined;
  afterAll(async () => t?.cleanup());

  it('makes the venv from the served bundle where deploy looks for it, and reports the ansible-core', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-venv-ipc-'));
    const usbDir = path.join(tmp, 'usb');
    fs.mkdirSync(usbDir, { recursive: true });
    const usb: Drive = {
      id: `usb@${usbDir}`,
      device: '/dev/sdz1',
      label: 'USB',
      mountPoint: usbDir,
      size: 1e9,
      free: 5e8,
      fsType: 'exfat',
      removable: true,
      system: false,
    };
    t = testBackend({ tmp, drives: [usb] });
    await t.ok('keys.generate', { force: false });
    const wheels = await debianWheels();
    await makeWheelBundle(path.join(usbDir, 'ferry'), wheels, {
      signer: (await KeyStore.fromEnv(t.env).signer())!,
      kubespray: 'v2.31.0',
    });
    const [b] = (await t.ok('media.scan')).bundles;
    const opts = {
      address: '127.0.0.1',
      filesPort: await freePort(),
      registryPort: await freePort(),
      tls: false,
      allowUntrusted: false,
      allowUnsigned: false,
    };
    const { jobId: serveJobId } = await t.ok('serve.start', {
      from: { kind: 'media', bundle: { token: b.token } },
      ...opts,
    });
    let st: any;
    for (let i = 0; i < 200 && !(st = await t.ok('serve.status')).running; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(st).toMatchObject({ running: true, python: { projects: wheels.length, wheels: wheels.length } });

    const { jobId } = await t.ok('venv.start', { serveJobId });
    const done = await t.waitJob(jobId);
    expect(done.state, JSON.stringify(done.error)).toBe('done');
    const r = VenvResultSchema.parse(done.result);
    expect(r.dir).toBe(path.join(t.env.FERRY_DATA_DIR!, 'deploy', b.id, 'venv'));
    const core = wheels.find((w) => w.project === 'ansible-core')!;
    expect(r.ansibleCore).toMatchObject({ expected: core.version, reported: core.version });
    expect(r.installed).toHaveLength(wheels.length);
    // A second press checks and reuses it.
    const again = await t.waitJob((await t.ok('venv.start', { serveJobId })).jobId);
    expect(VenvResultSchema.parse(again.result).reused).toBe(true);
    await t.ok('serve.stop', { jobId: serveJobId });
  }, 300_000);
});
