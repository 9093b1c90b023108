import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The import zones (eslint.config.js, docs/architecture.md "Layout") are a rule only if ESLint
// refuses a violating import. Each case lints a one-line file at a path that need not exist, with
// the repository's own configuration, and expects the zone rule (or the electron fence) to fire.
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const eslint = new ESLint({ cwd: repo });

async function problems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport const x = y;\n`, {
    filePath: path.join(repo, file),
  });
  return result!.messages
    .filter((m) => m.ruleId === 'ferry/import-zones' || m.ruleId === 'no-restricted-imports')
    .map((m) => `${m.ruleId}: ${m.message}`);
}

describe('ESLint import zones', () => {
  it('refuses a stage importing a later stage', async () => {
    const found = await problems(
      'src-main/core/bundle/zone-fixture.ts',
      "import { y } from '../serve/server.js';",
    );
    expect(found).toHaveLength(1);
    expect(found[0]).toContain('core/bundle comes before core/serve');
  });

  it('refuses it however the path is spelled, for re-exports and dynamic imports too', async () => {
    expect(
      await problems(
        'src-main/core/base/jobs/zone-fixture.ts',
        "import { y } from '../../../core/plan/plan.js';",
      ),
    ).toHaveLength(1);
    expect(
      await problems('src-main/core/fetch/zone-fixture.ts', "export { y } from '../media/store/index.js';"),
    ).toHaveLength(1);
    expect(
      await problems('src-main/core/media/zone-fixture.ts', "const y = await import('../deploy/index.js');"),
    ).toHaveLength(1);
  });

  it('lets a stage import itself and every stage before it', async () => {
    const code = [
      "import { a } from '../base/errors/index.js';",
      "import { b } from '../bundle/manifest.js';",
      "import { c } from '../plan/plan.js';",
      "import { d } from '../fetch/index.js';",
      "import { e } from '../media/store/index.js';",
      "import { f } from './server.js';",
      'export const y = [a, b, c, d, e, f];',
    ].join('\n');
    expect(await problems('src-main/core/serve/zone-fixture.ts', code)).toEqual([]);
  });

  it('lets stages reach the kinds only through the registry and the labels', async () => {
    expect(
      await problems(
        'src-main/core/serve/zone-fixture.ts',
        "import { y } from '../kinds/index.js';\nimport { z } from '../kinds/labels.js';\nexport const w = z;",
      ),
    ).toEqual([]);
    const found = await problems(
      'src-main/core/serve/zone-fixture.ts',
      "import { y } from '../kinds/image/index.js';",
    );
    expect(found).toHaveLength(1);
    expect(found[0]).toContain('only through core/kinds/index.ts');
  });

  it('lets a kind module call any stage', async () => {
    expect(
      await problems(
        'src-main/core/kinds/zone-fixture.ts',
        "import { y } from '../fetch/oci/reference.js';\nimport { z } from '../serve/server.js';\nexport const w = z;",
      ),
    ).toEqual([]);
  });

  it('refuses core importing a front, and electron', async () => {
    for (const spec of ['../../ipc/contract.js', '../../cli/main.js', '../../shell/main.js']) {
      const found = await problems('src-main/core/base/zone-fixture.ts', `import { y } from '${spec}';`);
      expect(found, spec).toHaveLength(1);
      expect(found[0]).toContain('core never imports the');
    }
    const electron = await problems('src-main/core/serve/zone-fixture.ts', "import { y } from 'electron';");
    expect(electron).toHaveLength(1);
    expect(electron[0]).toContain('Only src-main/shell and src-main/preload may import electron.');
  });

  it('refuses the CLI and the IPC backend importing the shell or each other', async () => {
    expect(
      await problems('src-main/cli/zone-fixture.ts', "import { y } from '../shell/main.js';"),
    ).toHaveLength(1);
    expect(
      await problems('src-main/ipc/zone-fixture.ts', "import { y } from '../shell/dialogs.js';"),
    ).toHaveLength(1);
    expect(
      await problems('src-main/ipc/zone-fixture.ts', "import { y } from '../cli/main.js';"),
    ).toHaveLength(1);
    expect(
      await problems('src-main/cli/zone-fixture.ts', "import { y } from '../ipc/backend.js';"),
    ).toHaveLength(1);
    // The shell hosts the backend: that direction is the point.
    expect(
      await problems('src-main/shell/zone-fixture.ts', "import { y } from '../ipc/backend.js';"),
    ).toEqual([]);
  });

  it('refuses the renderer importing the shell, but not the IPC contract', async () => {
    expect(
      await problems('src-renderer/src/zone-fixture.ts', "import { y } from '../../src-main/shell/main.js';"),
    ).toHaveLength(1);
    expect(
      await problems(
        'src-renderer/src/zone-fixture.ts',
        "import { y } from '../../src-main/ipc/contract.js';",
      ),
    ).toEqual([]);
  });
});
