/**
 * bench/python/prepare.ts OUT: the wheels built from Debian 12's packages (test/helpers), as an
 * unsigned Ferry bundle in OUT/bundle and as a static PEP 503 tree in OUT/static (the same pages
 * Ferry serves, written to disk) for a plain web server, plus OUT/requirements.txt.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { debianWheels } from '../../test/helpers/debian-wheels.js';
import { makeWheelBundle } from '../../test/helpers/wheel-bundle.js';
import {
  groupByProject,
  projectHtml,
  requirementsTxt,
  rootHtml,
  type IndexFile,
} from '../../src-main/core/kinds/python/simple-index.js';
import { createHash } from 'node:crypto';

const out = path.resolve(process.argv[2] ?? 'bench-python');
const wheels = await debianWheels();
await fs.rm(out, { recursive: true, force: true });
await makeWheelBundle(path.join(out, 'bundle'), wheels);
const files: IndexFile[] = wheels.map((w) => ({
  project: w.project,
  version: w.version,
  filename: w.filename,
  sha256: w.sha256,
  size: w.size,
  ...(w.requiresPython ? { requiresPython: w.requiresPython } : {}),
  metadataSha256: createHash('sha256').update(w.metadata).digest('hex'),
}));
const st = path.join(out, 'static');
await fs.mkdir(path.join(st, 'python', 'files'), { recursive: true });
for (const w of wheels) {
  await fs.copyFile(w.file, path.join(st, 'python', 'files', w.filename));
  await fs.writeFile(path.join(st, 'python', 'files', `${w.filename}.metadata`), w.metadata);
}
const groups = groupByProject(files);
await fs.mkdir(path.join(st, 'simple'), { recursive: true });
await fs.writeFile(path.join(st, 'simple', 'index.html'), rootHtml([...groups.keys()]));
for (const [p, list] of groups) {
  await fs.mkdir(path.join(st, 'simple', p), { recursive: true });
  await fs.writeFile(
    path.join(st, 'simple', p, 'index.html'),
    projectHtml(p, list, (f) => `../../python/files/${encodeURIComponent(f.filename)}`),
  );
}
await fs.writeFile(path.join(out, 'requirements.txt'), requirementsTxt(files));
const bytes = wheels.reduce((s, w) => s + w.size, 0);
console.log(`${wheels.length} wheels, ${(bytes / 1e6).toFixed(1)} MB in ${out}`);
