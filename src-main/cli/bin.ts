/**
 * Entry point of the bundled CLI (out/cli/ferry.cjs and the standalone executables built from it
 * by scripts/build-cli.mjs). main.ts recognises itself as the entry only by its file name, which a
 * bundle does not keep, so the bundle starts here instead; main() sets the exit code and ends
 * quietly on a closed pipe, as every other entry does.
 */
import { main } from './main.js';

void main();
