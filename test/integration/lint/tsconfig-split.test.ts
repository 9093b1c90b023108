import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// The tsconfig split (docs/architecture.md "Tests"): the Node half has no DOM, the web half has no
// Node. Each case type-checks one virtual file under a half's own parsed options and expects the
// other world's globals to be unknown names.
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function diagnostics(config: string, file: string, code: string): string[] {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    path.join(repo, config),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  )!;
  const abs = path.join(repo, file);
  const host = ts.createCompilerHost(parsed.options);
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) =>
    path.resolve(name) === abs ? ts.createSourceFile(name, code, lang) : read(name, lang, ...rest);
  host.fileExists = (
    (exists) => (name: string) =>
      path.resolve(name) === abs || exists(name)
  )(host.fileExists.bind(host));
  const program = ts.createProgram([abs], parsed.options, host);
  return ts
    .getPreEmitDiagnostics(program, program.getSourceFile(abs))
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('tsconfig halves', () => {
  it('the Node half (core, CLI, IPC, tests) does not know the DOM', () => {
    const found = diagnostics(
      'tsconfig.node.json',
      'src-main/core/base/split-fixture.ts',
      'export const t: string = document.title;\nexport const p: string = process.platform;\n',
    );
    expect(found).toHaveLength(1);
    expect(found[0]).toContain("'document'");
  });

  it('the web half (the renderer) does not know Node', () => {
    const found = diagnostics(
      'tsconfig.web.json',
      'src-renderer/src/split-fixture.ts',
      'export const t: string = document.title;\nexport const p: string = process.platform;\n',
    );
    expect(found).toHaveLength(1);
    expect(found[0]).toContain("'process'");
  });
});
