/**
 * Ferry's side of bench/rpm/repodata.sh, in its own process so GNU time measures it alone:
 * for every .rpm under <repo>/Packages, hash the file while streaming it and read its header from
 * the same chunks, then write signed repodata (primary, filelists, other, repomd.xml,
 * repomd.xml.asc) — the work fetch does for a carried repository besides the downloads.
 *   node node_modules/tsx/dist/cli.mjs bench/rpm/repodata-ferry.ts <repo> <keysdir>
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ensureRepoSigner } from '../../src-main/core/bundle/keys/repo-key.js';
import { rpmHeaderTap } from '../../src-main/core/kinds/rpm/header.js';
import { buildRpmRepodata, type RpmRepodataEntry } from '../../src-main/core/kinds/rpm/repodata.js';

const [repo, keys] = process.argv.slice(2);
if (!repo || !keys) throw new Error('usage: repodata-ferry.ts <repo> <keysdir>');
const t0 = performance.now();
const signer = await ensureRepoSigner(keys);
const pk = path.join(repo, 'Packages');
const locations = fs
  .readdirSync(pk)
  .flatMap((l) => fs.readdirSync(path.join(pk, l)).map((f) => `Packages/${l}/${f}`))
  .filter((f) => f.endsWith('.rpm'));
const entries: RpmRepodataEntry[] = [];
for (const location of locations) {
  const file = path.join(repo, location);
  // One pass per file, as fetch does with a download: the hash and the header from the same
  // chunks (rpmHeaderTap), not a second read for the header.
  const h = createHash('sha256');
  const tap = rpmHeaderTap(location);
  let size = 0;
  await pipeline(
    fs.createReadStream(file, { highWaterMark: 1 << 20 }),
    async (src: AsyncIterable<Buffer>) => {
      for await (const c of src) {
        h.update(c);
        tap.push(c);
        size += c.length;
      }
    },
  );
  tap.end();
  entries.push({
    location,
    sha256: h.digest('hex'),
    size,
    mtime: Math.floor(fs.statSync(file).mtimeMs / 1000),
    header: await tap.header,
  });
}
const out = await buildRpmRepodata(entries, { signer });
const rd = path.join(repo, 'repodata');
fs.rmSync(rd, { recursive: true, force: true });
fs.mkdirSync(rd, { recursive: true });
for (const f of out) fs.writeFileSync(path.join(repo, f.path), f.data);
// The work alone, without Node's start and tsx's transpiling, for the script to report beside.
console.log(`${entries.length} packages in ${((performance.now() - t0) / 1000).toFixed(3)} s`);
