/**
 * bench/deb/fetch.sh, step 1: the plan of the bench (Kubespray v2.31.0's Debian 12 roots and their
 * closure with the baseline, resolved by Ferry over the cached real bookworm indexes), written as
 * OUT/plan.json, and the same packages as `name=version` lines for `apt-get download` in
 * OUT/apt-list.txt. The .debs are put in the cached archive (downloaded once from deb.debian.org).
 * Usage: tsx bench/deb/fetch-prepare.ts OUT
 */
import fs from 'node:fs';
import path from 'node:path';
import { kubesprayDebian12Roots } from '../../test/helpers/apt-oracle.js';
import { bookwormArchive } from '../../test/helpers/deb-archive.js';
import { bookwormSet, ensureDeb } from '../../test/helpers/deb-pool.js';

const out = process.argv[2];
fs.mkdirSync(out, { recursive: true });
bookwormArchive();
const roots = await kubesprayDebian12Roots('v2.31.0');
const { set, records } = await bookwormSet(roots);
for (const r of records) ensureDeb(r);
const plan = {
  kubespray: 'v2.31.0',
  kubeVersion: '1.34.0',
  arches: ['amd64'],
  files: [],
  images: [],
  vars: {},
  debs: [set],
};
fs.writeFileSync(path.join(out, 'plan.json'), JSON.stringify(plan, null, 2));
fs.writeFileSync(path.join(out, 'apt-list.txt'), records.map((r) => `${r.package}=${r.version}\n`).join(''));
process.stdout.write(
  JSON.stringify({
    roots: roots.length,
    packages: records.length,
    bytes: records.reduce((n, r) => n + r.size, 0),
  }) + '\n',
);
