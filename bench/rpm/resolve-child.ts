// The measured Ferry run of bench/rpm/resolve.sh, bundled by it into one file (as the shipped CLI
// is): repomd.xml → primary.xml.gz streamed and parsed → the file requires → filelists.xml.gz
// streamed keeping only those paths → resolution. Prints "<packages> <problems>".
//   node resolve-child.mjs <repo dir> <arch> <root names…>
import fs from 'node:fs';
import path from 'node:path';
import { decompressedStream } from '../../src-main/core/kinds/rpm/decompress.js';
import { mergeFiles, readFilelists, wantedFiles } from '../../src-main/core/kinds/rpm/filelists.js';
import type { RpmPackage } from '../../src-main/core/kinds/rpm/package.js';
import { readPrimaryInto } from '../../src-main/core/kinds/rpm/primary.js';
import { resolveRpms } from '../../src-main/core/kinds/rpm/resolve.js';

async function main(): Promise<void> {
  const [dir, arch, ...roots] = process.argv.slice(2);
  const repomd = fs.readFileSync(path.join(dir, 'repodata', 'repomd.xml'), 'utf8');
  const href = (type: string): string => {
    const m = new RegExp(`<data type="${type}">[\\s\\S]*?<location href="([^"]+)"`).exec(repomd);
    if (!m) throw new Error(`repomd.xml has no ${type}`);
    return m[1];
  };
  const open = (h: string) =>
    decompressedStream(fs.createReadStream(path.join(dir, h), { highWaterMark: 1 << 20 }), h);
  const t0 = performance.now();
  const phase = (what: string): void => {
    if (process.env.FERRY_BENCH_PHASES)
      console.error(
        `${what}: ${Math.round(performance.now() - t0)} ms wall, ${Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000)} ms cpu`,
      );
  };
  const packages: RpmPackage[] = [];
  await readPrimaryInto(open(href('primary')), 'bench', (p) => packages.push(p));
  phase(`primary (${packages.length} packages)`);
  const found = await readFilelists(open(href('filelists')), wantedFiles(packages), 'bench');
  phase(`filelists (${found.size} packages with wanted paths)`);
  mergeFiles(packages, found);
  const r = resolveRpms({ packages, roots: roots.map((name) => ({ name, why: 'bench root' })), arch });
  phase('resolved');
  process.stdout.write(`${r.packages.length} ${r.problems.length}\n`);
  if (process.env.FERRY_BENCH_LIST) {
    fs.writeFileSync(
      process.env.FERRY_BENCH_LIST,
      r.packages.map((p) => `${p.name}-${p.epoch}:${p.version}-${p.release}.${p.arch}`).join('\n') + '\n',
    );
  }
}

// CommonJS bundle (like out/cli/ferry.cjs), so no top-level await.
void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
