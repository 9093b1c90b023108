/**
 * The packages bench/rpm/repodata.sh indexes: N synthetic .rpm files built once by rpmbuild
 * (one process for all specs) and cached under /tmp/ferry-bench-rpm/<N>/Packages. Each holds
 * 5–200 text files over a few directories, versioned and unversioned Requires, Provides and a
 * changelog, so header reading and the XML writers do representative work.
 *   node node_modules/tsx/dist/cli.mjs bench/rpm/repodata-prepare.ts <N>  → prints the folder
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const n = Number(process.argv[2] ?? 1000);
const base = path.join('/tmp', 'ferry-bench-rpm', String(n));
const ready = path.join(base, 'READY');
if (!fs.existsSync(ready)) {
  fs.rmSync(base, { recursive: true, force: true });
  const top = path.join(base, 'top');
  fs.mkdirSync(path.join(top, 'SPECS'), { recursive: true });
  const specs: string[] = [];
  for (let i = 0; i < n; i++) {
    const files = 5 + ((i * 37) % 196);
    const name = `bench-pkg-${String(i).padStart(5, '0')}`;
    const spec = [
      '%global debug_package %{nil}',
      '%define __os_install_post %{nil}',
      `Name: ${name}`,
      `Version: ${1 + (i % 7)}.${i % 13}`,
      'Release: 1.el9',
      `Summary: Bench package ${i}`,
      'License: MIT',
      'URL: https://example.org/bench',
      ...(i > 0 ? [`Requires: bench-pkg-${String(i - 1).padStart(5, '0')} >= 1.0`] : []),
      ...(i > 1 ? [`Requires: bench-pkg-${String(Math.floor(i / 2)).padStart(5, '0')}`] : []),
      `Provides: bench-virtual-${i % 50} = ${i}`,
      '',
      '%description',
      `Package ${i} of the repodata bench.`,
      '',
      '%install',
      `for d in bin share/${name} share/${name}/data lib/${name}; do mkdir -p %{buildroot}/usr/$d; done`,
      `for j in $(seq ${files}); do echo $j > %{buildroot}/usr/share/${name}/data/f$j.txt; done`,
      `echo x > %{buildroot}/usr/bin/${name}`,
      '',
      '%files',
      `%attr(0755,root,root) /usr/bin/${name}`,
      `/usr/share/${name}`,
      `%dir /usr/lib/${name}`,
      '',
      '%changelog',
      `* Mon Jan 01 2024 Bench <b@example.org> - 1.0-1`,
      '- one',
      `* Sun Dec 31 2023 Bench <b@example.org> - 0.9-1`,
      '- two',
      '',
    ].join('\n');
    const f = path.join(top, 'SPECS', `${name}.spec`);
    fs.writeFileSync(f, spec);
    specs.push(f);
  }
  // Batches keep the argument list short; each batch is one rpmbuild process.
  for (let i = 0; i < specs.length; i += 200)
    execFileSync(
      'rpmbuild',
      ['--quiet', '--define', `_topdir ${top}`, '--target', 'x86_64', '-bb', ...specs.slice(i, i + 200)],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
  const out = path.join(base, 'Packages');
  for (const d of fs.readdirSync(path.join(top, 'RPMS'))) {
    for (const f of fs.readdirSync(path.join(top, 'RPMS', d))) {
      const dest = path.join(out, f[0], f);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.renameSync(path.join(top, 'RPMS', d, f), dest);
    }
  }
  fs.rmSync(top, { recursive: true, force: true });
  fs.writeFileSync(ready, '');
}
console.log(base);
