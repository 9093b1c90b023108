import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import {
  buildAnsibleMeta,
  buildDebianWheel,
  DEBIAN_WHEELS,
  type BuiltWheel,
  type DebianWheelSpec,
} from './debian-wheels.js';
import type { Dist } from './pypi-server.js';

/**
 * Kubespray v2.31.0's requirements as PyPI publishes them (ansible==11.13.0, cryptography==46.0.7,
 * jmespath==1.1.0, netaddr==1.3.0 and what they pull in), made of REAL installable code: the
 * Python packages Debian 12 installs, relabelled with the published versions and Requires-Dist so
 * that Ferry's resolver works on Kubespray's real requirements.txt.
 *
 * This is a test fixture, not a claim about compatibility: the code inside `ansible-core 2.18.12`
 * is Debian's ansible-core 2.14, its `ansible/release.py` changed to say 2.18.12 so that
 * `ansible-playbook --version` reports the relabelled version the chain checks; likewise
 * `cffi 2.0.0` is Debian's 1.15, `netaddr 1.3.0` Debian's 0.8, and so on. PyPI cannot be reached
 * from CI, and this is the only way to run a real `ansible-playbook` from a venv that pip filled
 * with the versions Kubespray pins.
 */
export const ANSIBLE = '11.13.0';
export const ANSIBLE_CORE = '2.18.12';

/** Published Requires-Dist / Requires-Python of these releases; the code is Debian's. */
const RELABEL: Record<string, Partial<DebianWheelSpec> & { version: string }> = {
  'ansible-core': {
    version: ANSIBLE_CORE,
    requiresPython: '>=3.11',
    requiresDist: ['jinja2>=3.0.0', 'PyYAML>=5.1', 'cryptography', 'packaging', 'resolvelib<1.1.0,>=0.5.3'],
    rewrite: {
      'ansible/release.py': (t) => t.replace(/^__version__ = '[^']*'/m, `__version__ = '${ANSIBLE_CORE}'`),
    },
  },
  Jinja2: { version: '3.1.6', requiresPython: '>=3.7', requiresDist: ['MarkupSafe>=2.0'] },
  MarkupSafe: { version: '3.0.3', requiresPython: '>=3.9' },
  PyYAML: { version: '6.0.3', requiresPython: '>=3.8' },
  cryptography: {
    version: '46.0.7',
    requiresPython: '!=3.9.0,!=3.9.1,>=3.8',
    requiresDist: [
      "cffi>=2.0.0; python_full_version >= '3.9' and platform_python_implementation != 'PyPy'",
      // Excluded for 3.11 by its marker: never on the loopback PyPI, never needed.
      "typing-extensions>=4.13.2; python_full_version < '3.11'",
    ],
  },
  cffi: {
    version: '2.0.0',
    requiresPython: '>=3.9',
    requiresDist: ["pycparser; implementation_name != 'PyPy'"],
  },
  // Debian unbundles ply from pycparser, so this pycparser still needs ply's wheel.
  pycparser: { version: '2.23', requiresPython: '>=3.8', requiresDist: ['ply'] },
  ply: { version: '3.11' },
  packaging: { version: '25.0', requiresPython: '>=3.8' },
  resolvelib: { version: '1.0.1' },
  jmespath: { version: '1.1.0', requiresPython: '>=3.9' },
  netaddr: { version: '1.3.0', requiresPython: '>=3.7' },
};

export interface KubesprayWheels {
  wheels: BuiltWheel[];
  /** The same wheels as the loopback PyPI serves them, plus a newer ansible the pin must not take. */
  projects: Record<string, Dist[]>;
}

const toDist = (w: BuiltWheel): Dist => ({
  filename: w.filename,
  bytes: fs.readFileSync(w.file),
  sha256: w.sha256,
  metadata: w.metadata.toString('utf8'),
  ...(w.requiresPython ? { requiresPython: w.requiresPython } : {}),
});

export async function kubesprayWheels(dir: string): Promise<KubesprayWheels> {
  await fsp.mkdir(dir, { recursive: true });
  const wheels = DEBIAN_WHEELS.map((base) => {
    const r = RELABEL[base.name];
    if (!r) throw new Error(`no published version chosen for ${base.name}`);
    return buildDebianWheel({ ...base, requiresDist: [], requiresPython: undefined, ...r }, dir);
  });
  const core = wheels.find((w) => w.project === 'ansible-core')!;
  // ansible 11.x is the community package for ansible-core 2.18 (~=2.18.12 for 11.13.0).
  wheels.push(buildAnsibleMeta(core, dir, ANSIBLE, `ansible-core~=${ANSIBLE_CORE}`));
  const projects: Record<string, Dist[]> = {};
  for (const w of wheels) (projects[w.project] ??= []).push(toDist(w));
  // A newer release on the index, for a later ansible-core that is not there: only the pin keeps
  // the resolver off it.
  const newer = path.join(dir, 'newer');
  await fsp.mkdir(newer, { recursive: true });
  projects.ansible.push(toDist(buildAnsibleMeta(core, newer, '12.2.0', 'ansible-core~=2.19.4')));
  return { wheels, projects };
}
