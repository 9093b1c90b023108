/**
 * One Ferry fetch in its own process, so the bench measures Ferry alone: prints a JSON line with
 * the job's seconds (module loading excluded), bytes and the process's peak RSS.
 * Usage: tsx bench/fetch/ferry-run.ts PLAN.json OUT [concurrency] [insecure-registry]
 */
import fs from 'node:fs';
import { startFetchJob } from '../../src-main/core/fetch/fetch-bundle.js';
import { parsePlan } from '../../src-main/core/plan/plan.js';

const [planFile, out, conc, insecure] = process.argv.slice(2);
const plan = parsePlan(JSON.parse(fs.readFileSync(planFile, 'utf8')), planFile);
const t0 = process.hrtime.bigint();
const job = startFetchJob(plan, {
  out,
  ...(conc ? { concurrency: Number(conc) } : {}),
  signer: null,
  env: { HOME: '/nonexistent', FERRY_DATA_DIR: out + '-data' },
  ...(insecure ? { insecureRegistries: [insecure] } : {}),
});
// When the last artifact finished downloading: what follows is committing and the manifest.
let lastDone = 0;
job.subscribe((e) => {
  if (e.type === 'item' && e.item.status === 'done') lastDone = Number(process.hrtime.bigint() - t0) / 1e9;
});
const r = await job.done;
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
process.stdout.write(
  JSON.stringify({
    seconds,
    lastDone,
    bytes: r.bytesDownloaded,
    fetched: r.counts.fetched,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  }) + '\n',
);
