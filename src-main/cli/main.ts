#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { EXIT, exitCodeFor, FerryError, toErrorValue } from '../core/base/errors/index.js';
import type { Command, CommandContext, LazyCommand } from './command.js';
import { commands, loadCommand } from './commands/index.js';

const VERSION = '0.1.0';

function findCommand(argv: string[]): { cmd: Command | LazyCommand | undefined; rest: string[] } {
  // Two-word commands ('keys generate') take precedence over one-word ones.
  if (argv.length >= 2) {
    const two = commands.find((c) => c.name === `${argv[0]} ${argv[1]}`);
    if (two) return { cmd: two, rest: argv.slice(2) };
  }
  const one = commands.find((c) => c.name === argv[0]);
  return { cmd: one, rest: argv.slice(1) };
}

export function globalHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 8);
  const lines = [
    `ferry ${VERSION} — carry a Kubespray cluster across the air gap`,
    '',
    'Usage: ferry <command> [options]   (ferry <command> --help for details)',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Exit codes: 0 success · 1 integrity failure (missing, damaged or untrusted) · 2 usage error · 3 other failure',
    'Every command that reports takes --json and then prints only JSON on stdout.',
  ];
  const groups = [...new Set(commands.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0]))];
  if (groups.length) lines.push(`Command groups: ${groups.join(', ')} (e.g. ferry ${groups[0]} --help)`);
  return lines.join('\n');
}

export function commandHelp(cmd: Command): string {
  const lines = [`Usage: ferry ${cmd.name}${cmd.usage ? ' ' + cmd.usage : ''} [options]`, '', cmd.summary];
  if (cmd.description) lines.push('', cmd.description);
  const opts = { ...(cmd.options ?? {}) };
  if (cmd.json !== false) opts.json = { type: 'boolean', description: 'Print only JSON on stdout.' };
  opts.help = { type: 'boolean', short: 'h', description: 'Show this help.' };
  lines.push('', 'Options:');
  const rows = Object.entries(opts).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ' ' + (o.valueName ?? 'VALUE') : ''}`;
    return [flag, o.description + (o.multiple ? ' (repeatable)' : '')] as const;
  });
  const w = Math.max(...rows.map((r) => r[0].length));
  for (const [f, d] of rows) lines.push(`  ${f.padEnd(w)}  ${d}`);
  return lines.join('\n');
}

export interface RunOptions {
  stdout?: CommandContext['stdout'];
  stderr?: CommandContext['stderr'];
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** Runs the CLI with argv (without node and script) and returns the exit code. */
export async function runCli(argv: string[], opts: RunOptions = {}): Promise<number> {
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const env = opts.env ?? process.env;
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    stdout.write(globalHelp() + '\n');
    return argv.length === 0 ? EXIT.USAGE : EXIT.OK;
  }
  if (argv[0] === '--version') {
    stdout.write(VERSION + '\n');
    return EXIT.OK;
  }
  const { cmd: entry, rest } = findCommand(argv);
  if (!entry) {
    const group = commands.filter((c) => c.name.startsWith(argv[0] + ' '));
    if (group.length) {
      const w = Math.max(...group.map((c) => c.name.length));
      stdout.write(
        [
          `Usage: ferry ${argv[0]} <subcommand>`,
          '',
          ...group.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
        ].join('\n') + '\n',
      );
      return argv.length === 1 || argv[1] === '--help' || argv[1] === '-h' ? EXIT.OK : EXIT.USAGE;
    }
    stderr.write(`ferry: unknown command '${argv[0]}'. Run 'ferry --help' for the list.\n`);
    return EXIT.USAGE;
  }
  const cmd = await loadCommand(entry);
  // parseArgs wants only its own keys; copy each spec so the command's help text stays intact.
  const options: Record<string, any> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, spec] of Object.entries(cmd.options ?? {})) {
    const { description: _d, valueName: _v, ...rest } = spec;
    options[name] = rest;
  }
  if (cmd.json !== false) options.json = { type: 'boolean' };
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (err) {
    stderr.write(`ferry ${cmd.name}: ${(err as Error).message}\nRun 'ferry ${cmd.name} --help' for usage.\n`);
    return EXIT.USAGE;
  }
  if (parsed.values.help) {
    stdout.write(commandHelp(cmd) + '\n');
    return EXIT.OK;
  }
  const json = parsed.values.json === true;
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  if (!opts.signal) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  } else {
    opts.signal.addEventListener('abort', onSignal, { once: true });
  }
  const ctx: CommandContext = {
    values: parsed.values as CommandContext['values'],
    positionals: parsed.positionals,
    json,
    stdout,
    stderr,
    signal: controller.signal,
    env,
  };
  try {
    return await cmd.run(ctx);
  } catch (err) {
    const ev = toErrorValue(err);
    if (json) stdout.write(JSON.stringify({ ok: false, error: ev }, null, 2) + '\n');
    // Messages that already name their artifact (a profile's `file:line: …`) get no second copy.
    const prefix = ev.artifact && !ev.message.includes(ev.artifact) ? `${ev.artifact}: ` : '';
    stderr.write(`ferry ${cmd.name}: ${prefix}${ev.message}\n${ev.hint ? `  → ${ev.hint}\n` : ''}`);
    if (ev.code === 'CANCELLED') return EXIT.FAILURE;
    if (!(err instanceof FerryError) && ev.code === 'INTERNAL' && env.FERRY_DEBUG)
      stderr.write(String((err as Error).stack) + '\n');
    return exitCodeFor(ev.code);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * The process entry (tsx src-main/cli/main.ts, `npm run ferry`, bin/ferry.mjs): runs the CLI on
 * process.argv and sets the exit code.
 */
export async function main(argv = process.argv.slice(2)): Promise<void> {
  let answered = false;
  // `ferry plan | head -2`: the reader has gone, so there is no one left to tell; end quietly,
  // as a tool killed by SIGPIPE would, instead of an unhandled 'error' stack trace.
  for (const s of [process.stdout, process.stderr])
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(answered ? (process.exitCode ?? EXIT.OK) : EXIT.OK);
      throw err;
    });
  // npm runs scripts in the package folder; INIT_CWD is where the user typed the command, so
  // relative paths (`npm --prefix ~/ferry run ferry -- verify ./bundle`) mean the user's folder.
  if (process.env.npm_lifecycle_event === 'ferry' && process.env.INIT_CWD)
    process.chdir(process.env.INIT_CWD);
  // Until the command has answered, a process that ends is a failure: a promise that can never
  // settle (a connection nobody closes) drains the event loop, and Node would exit 0 silently.
  process.exitCode = EXIT.FAILURE;
  const stopped = () => {
    if (!answered)
      process.stderr.write('ferry: the command stopped before it finished (nothing left to wait for).\n');
  };
  process.once('beforeExit', stopped);
  try {
    process.exitCode = await runCli(argv);
    answered = true;
  } catch (err) {
    answered = true;
    process.stderr.write(`ferry: ${(err as Error).stack ?? err}\n`);
    process.exitCode = EXIT.FAILURE;
  }
}

const isMain = process.argv[1] && /[\\/]cli[\\/]main\.(ts|js|mjs|cjs)$/.test(process.argv[1]);
if (isMain) void main();
