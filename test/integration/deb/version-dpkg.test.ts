import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareVersions } from '../../../src-main/core/kinds/deb/version.js';
import { bookwormArchive, bookwormUnavailable, versionsOf } from '../../helpers/deb-archive.js';
import { lacks, lacksCondition } from '../../helpers/tools.js';

/** Deterministic PRNG so a failure reproduces with the same pairs. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Asks dpkg about every pair in one shell, one `dpkg --compare-versions` call per answer. */
function dpkgOrder(pairs: [string, string][]): number[] {
  const script =
    'while IFS=" " read -r a b; do if dpkg --compare-versions "$a" lt "$b"; then echo -1; ' +
    'elif dpkg --compare-versions "$a" eq "$b"; then echo 0; else echo 1; fi; done';
  const out = execFileSync('sh', ['-c', script], {
    input: pairs.map(([a, b]) => `${a} ${b}`).join('\n') + '\n',
    maxBuffer: 64 << 20,
  });
  return out.toString().trim().split('\n').map(Number);
}

describe.skipIf(lacks('dpkg', 'lz4') || lacksCondition(!!bookwormUnavailable(), bookwormUnavailable() ?? ''))(
  'dpkg version comparison against dpkg --compare-versions',
  () => {
    it('agrees on thousands of real bookworm version pairs', () => {
      const suites = bookwormArchive();
      const all = [
        ...new Set(suites.flatMap((s) => versionsOf(path.join(s.dir, 'main', 'binary-amd64', 'Packages')))),
      ];
      expect(all.length).toBeGreaterThan(20_000);
      const rand = rng(13);
      const pick = (): string => all[Math.floor(rand() * all.length)];
      const pairs: [string, string][] = [];
      // Random pairs mostly differ early; neighbours in sorted order share long prefixes and
      // exercise '~', '+', epochs and revisions; mutations probe digits-vs-letters edges.
      for (let i = 0; i < 1500; i++) pairs.push([pick(), pick()]);
      const sample = Array.from({ length: 1500 }, pick).sort(compareVersions);
      for (let i = 1; i < sample.length; i++) pairs.push([sample[i - 1], sample[i]]);
      for (let i = 0; i < 1000; i++) {
        const v = pick();
        const muts = [`${v}~1`, `${v}+b1`, `${v}.0`, `${v}a`, v.replace(/\d+/, '0$&'), `1:${v}`];
        pairs.push([v, muts[i % muts.length]]);
      }
      const want = dpkgOrder(pairs);
      const wrong = pairs
        .map(([a, b], i) => ({ a, b, dpkg: want[i], ferry: Math.sign(compareVersions(a, b)) }))
        .filter((r) => r.dpkg !== r.ferry);
      expect(wrong.slice(0, 10)).toEqual([]);
      expect(want.length).toBe(pairs.length);
      // Not a test that cannot fail: the pairs must cover all three outcomes.
      expect(new Set(want)).toEqual(new Set([-1, 0, 1]));
    });
  },
);
