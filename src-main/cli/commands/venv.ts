import path from 'node:path';
import { EXIT } from '../../core/base/errors/index.js';
import { dataDir } from '../../core/base/config/dirs.js';
import { createVenv } from '../../core/kinds/python/venv.js';
import type { Command } from '../command.js';
import { printJson, println, str } from '../output.js';
import { openSources, bundleOptions } from './serve.js';
import { signatureOptions } from './verify.js';

export const venvCommand: Command = {
  name: 'venv',
  summary: 'Make the deploy host’s Ansible virtualenv from the bundle’s wheels, with no network',
  description:
    'Runs python3 -m venv, then pip install --no-index --require-hashes from verified copies of the bundle’s\n' +
    'wheels (only those this Python accepts), and checks that ansible-playbook --version reports the ansible-core\n' +
    'the bundle carries. The default folder is the one ferry deploy uses (<data dir>/deploy/<bundle id>/venv),\n' +
    'so a later deploy runs this Ansible. A rerun with the same bundle reuses a venv that still checks out.',
  options: {
    ...bundleOptions('The bundle folder (verified first).'),
    dir: { type: 'string', valueName: 'DIR', description: 'Where to make the virtualenv.' },
    python: {
      type: 'string',
      valueName: 'PATH',
      description: 'The Python to build it with (default python3).',
    },
    kubespray: {
      type: 'string',
      valueName: 'TAG',
      description: 'Kubespray tag whose Python floor applies (default: the bundle’s).',
    },
    ...signatureOptions,
  },
  async run(ctx) {
    const note = (line: string) => (ctx.json ? undefined : ctx.stderr.write(line + '\n'));
    const sources = await openSources(ctx, note);
    const dir = path.resolve(
      str(ctx.values.dir) ?? path.join(dataDir(ctx.env), 'deploy', sources[0].id, 'venv'),
    );
    const r = await createVenv({
      sources,
      dir,
      python: str(ctx.values.python),
      kubespray: str(ctx.values.kubespray),
      env: ctx.env,
      signal: ctx.signal,
      onLog: note,
    });
    if (ctx.json) printJson(ctx, { ok: true, ...r });
    else {
      println(
        ctx,
        `${r.reused ? 'Reused' : 'Made'} ${r.dir}: Python ${r.python.version}, pip ${r.pip}, ${r.installed.length} wheels (${r.seconds.toFixed(1)} s).`,
      );
      for (const s of r.skipped) println(ctx, `  not for this Python: ${s.filename} (${s.reason})`);
      if (r.ansibleCore)
        println(
          ctx,
          `ansible-playbook [core ${r.ansibleCore.reported}], as the bundle carries${r.ansibleCore.requiredBy ? ` (${r.ansibleCore.requiredBy})` : ''}.`,
        );
      if (r.ansiblePlaybook)
        println(ctx, `Run it as ${r.ansiblePlaybook}, or: . ${path.join(r.dir, 'bin', 'activate')}`);
    }
    return EXIT.OK;
  },
};
