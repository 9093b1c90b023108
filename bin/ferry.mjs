#!/usr/bin/env node
// The `ferry` command until the standalone CLI is built: runs the TypeScript CLI through tsx,
// resolved from this package, so `npm link` or a global install from the repository works.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src-main/cli/main.ts');
await main();
