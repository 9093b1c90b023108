// Writes the synthetic repository of test/helpers/rpm-synthetic.ts (see there) and prints the
// root package names, one line, space-separated.
//   npx tsx bench/rpm/gen-repo.ts <dir> [packages=20000] [seed=1]
import { writeSyntheticRepo } from '../../test/helpers/rpm-synthetic.js';

const [dir, nArg, seedArg] = process.argv.slice(2);
if (!dir) throw new Error('usage: gen-repo.ts <dir> [packages] [seed]');
const roots = writeSyntheticRepo(dir, { packages: Number(nArg ?? 20000), seed: Number(seedArg ?? 1) });
process.stdout.write(`${roots.join(' ')}\n`);
