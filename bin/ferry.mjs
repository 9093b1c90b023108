#!/usr/bin/env node
// The `ferry` command of package.json's `bin`. In a checkout (src-main present) it runs the
// TypeScript CLI through tsx, so `npm link` always runs the code as it stands; in a package that
// carries only the built CLI (`npm run build:cli` → out/cli/ferry.cjs, no sources) it runs that
// one file, which needs nothing but Node ≥ 22.19.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('../src-main/cli/main.ts', import.meta.url));
const built = fileURLToPath(new URL('../out/cli/ferry.cjs', import.meta.url));
if (!existsSync(source) && existsSync(built)) {
  createRequire(import.meta.url)(built);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../src-main/cli/main.ts');
  await main();
}
