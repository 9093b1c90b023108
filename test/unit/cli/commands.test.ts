import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Command } from '../../../src-main/cli/command.js';
import { commands, loadCommand } from '../../../src-main/cli/commands/index.js';
import { repoRoot } from '../../helpers/tools.js';

/**
 * The command table names each command and its summary without loading it (so `ferry --help`
 * stays cheap); what it says must be what the command module says once loaded.
 */
describe('the CLI command table', () => {
  it('names each command as its module does, and each loads to a runnable command', async () => {
    expect(commands.length).toBeGreaterThan(10);
    for (const entry of commands) {
      const cmd = await loadCommand(entry);
      expect({ name: cmd.name, summary: cmd.summary }).toEqual({ name: entry.name, summary: entry.summary });
      expect(typeof cmd.run).toBe('function');
    }
  });

  it('lists every command the command modules define', async () => {
    // A command added to a module but not to the table would be unreachable from the CLI.
    const dir = path.join(repoRoot, 'src-main/cli/commands');
    const defined = new Set<string>();
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.ts') && n !== 'index.ts')) {
      const mod = (await import(pathToFileURL(path.join(dir, f)).href)) as Record<string, unknown>;
      for (const v of Object.values(mod).flatMap((x) => (Array.isArray(x) ? x : [x])))
        if (v && typeof v === 'object' && typeof (v as Command).run === 'function')
          defined.add((v as Command).name);
    }
    expect([...defined].sort()).toEqual(commands.map((c) => c.name).sort());
  });

  it('has each name once', () => {
    const names = commands.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
  });
});
