import { FerryError } from '../../base/errors/index.js';

/** A deploy host's Python environment: what wheels, markers and Requires-Python are judged against. */
export interface PythonTarget {
  python: string; // "3.11"
  arch: 'x86_64' | 'aarch64';
  glibc: string; // "2.36"
}

/** What each named deploy-host OS ships; RHEL/Rocky 9 ship 3.9 but install 3.11/3.12 from AppStream. */
export const OS_TARGETS: Record<string, { python: string; installable: string[]; glibc: string }> = {
  'debian-12': { python: '3.11', installable: ['3.11'], glibc: '2.36' },
  'ubuntu-22.04': { python: '3.10', installable: ['3.10'], glibc: '2.35' },
  'ubuntu-24.04': { python: '3.12', installable: ['3.12'], glibc: '2.39' },
  'rocky-9': { python: '3.9', installable: ['3.9', '3.11', '3.12'], glibc: '2.34' },
  'rhel-9': { python: '3.9', installable: ['3.9', '3.11', '3.12'], glibc: '2.34' },
};

const cmp = (a: string, b: string): number => {
  const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)];
  return (x[0] ?? 0) - (y[0] ?? 0) || (x[1] ?? 0) - (y[1] ?? 0);
};

/** Kubespray v2.31.0 raised its floor to Python 3.11; earlier supported tags need 3.10. */
export function minimumPython(kubesprayTag: string): string {
  const m = /^v?(\d+)\.(\d+)/.exec(kubesprayTag);
  if (!m) throw new FerryError('USAGE', `not a Kubespray tag: ${kubesprayTag}`, { artifact: kubesprayTag });
  return Number(m[1]) > 2 || Number(m[2]) >= 31 ? '3.11' : '3.10';
}

export function resolveTarget(opts: {
  os?: string | undefined;
  python?: string | undefined;
  arch?: PythonTarget['arch'];
  glibc?: string | undefined;
  kubesprayTag: string;
}): PythonTarget {
  const os = opts.os ? OS_TARGETS[opts.os] : undefined;
  if (opts.os && !os) {
    throw new FerryError('USAGE', `unknown deploy-host OS ${opts.os}`, {
      artifact: opts.os,
      hint: `use one of ${Object.keys(OS_TARGETS).join(', ')} or give --python and --glibc`,
    });
  }
  const min = minimumPython(opts.kubesprayTag);
  // On an OS whose system Python is too old, pick the oldest installable one that is supported.
  const python = opts.python ?? os?.installable.find((v) => cmp(v, min) >= 0) ?? os?.python;
  const glibc = opts.glibc ?? os?.glibc;
  if (!python || !glibc) {
    throw new FerryError('USAGE', 'the deploy host needs a Python version and a glibc level', {
      hint: 'name the deploy-host OS, or give both the Python version and the glibc level',
    });
  }
  if (cmp(python, min) < 0) {
    // A choice the tag refuses, like a kube_network_plugin it does not know: exit 2.
    throw new FerryError(
      'INVALID_CHOICE',
      `Kubespray ${opts.kubesprayTag} needs Python ≥ ${min}, not ${python}`,
      {
        artifact: `python ${python}`,
        hint: `choose Python ${min} or newer for the deploy host`,
      },
    );
  }
  return { python, arch: opts.arch ?? 'x86_64', glibc };
}
