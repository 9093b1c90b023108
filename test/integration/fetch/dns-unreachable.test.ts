import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { downloadToFile } from '../../../src-main/core/fetch/download/download-file.js';
import { HttpClient, isUnreachable } from '../../../src-main/core/fetch/download/http-client.js';
import { FerryError } from '../../../src-main/core/base/errors/index.js';

describe('a host that does not resolve', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fetch-net-dns-unit-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('is tried twice, then every later request to it fails at once with the same error', async () => {
    // The default policy: six attempts for ordinary network trouble.
    const client = new HttpClient();
    const errors: unknown[] = [];
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) {
      await downloadToFile(client, {
        url: `https://gone.ferry-test.invalid/f${i}`,
        dest: path.join(tmp, `f${i}`),
        label: `f${i}`,
      }).catch((e: unknown) => errors.push(e));
    }
    await client.fetchBytes('https://gone.ferry-test.invalid/v2/').catch((e: unknown) => errors.push(e));
    expect(client.requests).toBe(2);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(errors).toHaveLength(6);
    for (const e of errors) {
      expect(isUnreachable(e)).toBe(true);
      expect((e as FerryError).message).toMatch(
        /^gone\.ferry-test\.invalid cannot be resolved \((ENOTFOUND|EAI_AGAIN)\)/,
      );
    }
    expect((errors[0] as FerryError).artifact).toBe('f0');
    // Another host is its own question.
    await client.fetchBytes('https://other.ferry-test.invalid/').catch(() => undefined);
    expect(client.requests).toBe(4);
    await client.close();
  });

  it('a new client (the next run) asks again', async () => {
    const client = new HttpClient();
    await client.fetchBytes('https://gone.ferry-test.invalid/').catch(() => undefined);
    expect(client.requests).toBe(2);
    await client.close();
  });
});
