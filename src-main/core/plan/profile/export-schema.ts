/** Writes resources/ferry-profile.schema.json: `npx tsx src-main/core/plan/profile/export-schema.ts`. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { profileJsonSchema } from './schema.js';

export const SCHEMA_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../resources/ferry-profile.schema.json',
);

export function schemaFileText(): string {
  return JSON.stringify(profileJsonSchema(), null, 2) + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const tmp = SCHEMA_FILE + '.tmp';
  fs.writeFileSync(tmp, schemaFileText());
  fs.renameSync(tmp, SCHEMA_FILE);
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}
