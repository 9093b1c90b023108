import type { ParseArgsConfig } from 'node:util';

/**
 * A CLI command: a thin front on core. Each command declares its options (node:util parseArgs
 * format, plus help text), and returns an exit code. Errors thrown as FerryError are printed
 * (or emitted as JSON with --json) and mapped to exit codes by main.ts.
 */
export type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & {
  description: string;
  /** Shown in help as --name VALUE. */
  valueName?: string;
};

export interface CommandContext {
  /** Parsed options (strings, booleans, string[] for multiple). */
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  json: boolean;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Aborted on Ctrl-C (SIGINT/SIGTERM). */
  signal: AbortSignal;
  /** Environment, for config dir, proxies… (tests pass their own). */
  env: NodeJS.ProcessEnv;
}

export interface Command {
  /** 'verify' or a two-word group like 'keys generate'. */
  name: string;
  summary: string;
  /** e.g. 'BUNDLE' */
  usage?: string;
  description?: string;
  options?: Record<string, OptionSpec>;
  /** Whether the command takes --json (most do). */
  json?: boolean;
  run(ctx: CommandContext): Promise<number>;
}

/** A command named by its table entry and loaded (with its part of core) only when it runs. */
export interface LazyCommand {
  name: string;
  summary: string;
  load(): Promise<Command>;
}
