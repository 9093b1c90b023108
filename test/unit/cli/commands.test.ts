import { describe, expect, it } from 'vitest';
import { commands, loadCommand } from '../../../src-main/cli/commands/index.js';

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

  it('has each name once', () => {
    const names = commands.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
  });
});
