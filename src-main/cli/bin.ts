/**
 * Entry point of the bundled CLI (out/cli/ferry.cjs and the standalone executables built from it
 * by scripts/build-cli.mjs). main.ts recognises itself as the entry only by its file name, which a
 * bundle does not keep, so the bundle starts here instead.
 */
import { EXIT } from '../core/base/errors/index.js';
import { runCli } from './main.js';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`ferry: ${(err as Error).stack ?? err}\n`);
    process.exitCode = EXIT.FAILURE;
  },
);
