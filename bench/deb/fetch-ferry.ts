/**
 * bench/deb/fetch.sh, step 2: one Ferry fetch of the plan's OS packages from a mirror, in its own
 * process; prints a JSON line with the job's seconds and bytes.
 * Usage: tsx bench/deb/fetch-ferry.ts PLAN.json OUT MIRROR_BASE
 */
import fs from 'node:fs';
import path from 'node:path';
import { startFetchJob } from '../../src-main/core/fetch/fetch-bundle.js';
import { generateRepoKey, repoSigner } from '../../src-main/core/bundle/keys/repo-key.js';
import { parsePlan } from '../../src-main/core/plan/plan.js';

const [planFile, out, mirror] = process.argv.slice(2);
const plan = parsePlan(JSON.parse(fs.readFileSync(planFile, 'utf8')), planFile);
const keys = path.join(out + '-keys');
if (!fs.existsSync(keys)) await generateRepoKey(keys);
const t0 = process.hrtime.bigint();
const job = startFetchJob(plan, {
  out,
  signer: null,
  repoSigner: (await repoSigner(keys))!,
  mirrors: { 'https://deb.debian.org/': mirror.replace(/\/*$/, '/') },
  env: { HOME: '/nonexistent', FERRY_DATA_DIR: out + '-data' },
});
const r = await job.done;
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
process.stdout.write(
  JSON.stringify({ seconds, bytes: r.bytesDownloaded, maxRssMB: process.resourceUsage().maxRSS / 1024 }) +
    '\n',
);
