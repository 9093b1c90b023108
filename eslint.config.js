import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Only the Electron shell and preload may touch electron: everything else must run in plain Node
// so the CLI and the tests exercise exactly the code the app runs.
const noElectron = {
  'no-restricted-imports': [
    'error',
    {
      paths: [{ name: 'electron', message: 'Only src-main/shell and src-main/preload may import electron.' }],
    },
  ],
};

// Import zones. Core is grouped by stage, in the order data flows: a stage may import its own
// folder and the stages before it, never one after it (type-only imports included: a lower stage
// that needs a higher one's shape should own the type). Stages reach the artifact kinds only
// through the registry (kinds/index.ts), the pure labels (kinds/labels.ts) and the plan contracts
// (kinds/sets.ts, schemas only), so a new kind plugs
// in at one place; a kind module itself may call any stage's machinery. Core never reaches up into
// a front (cli, ipc, shell, preload, renderer), and the CLI and the IPC backend never import the
// Electron shell or each other: they are siblings on core. Enforced by a small local rule rather
// than a plugin: it resolves each relative specifier against the importing file, so `../x` and
// `../../core/x` are the same path. test/unit/lint/zones.test.ts feeds it violating imports.
const STAGES = ['base', 'bundle', 'plan', 'fetch', 'media', 'serve', 'deploy'];
const repoRoot = path.dirname(fileURLToPath(import.meta.url));
const srcMain = path.join(repoRoot, 'src-main');
const coreRoot = path.join(srcMain, 'core');
const KIND_DOORS = ['index', 'labels', 'sets'].map((f) => path.join(coreRoot, 'kinds', f));
const FRONTS = {
  cli: path.join(srcMain, 'cli'),
  ipc: path.join(srcMain, 'ipc'),
  shell: path.join(srcMain, 'shell'),
  preload: path.join(srcMain, 'preload'),
  renderer: path.join(repoRoot, 'src-renderer'),
};
// Which fronts each front must not import (the shell hosts the backend; preload names channels).
const FRONT_REFUSES = {
  cli: ['ipc', 'shell', 'preload', 'renderer'],
  ipc: ['cli', 'shell', 'preload', 'renderer'],
  renderer: ['cli', 'shell', 'preload'],
};
const FRONT_WHY = {
  cli: 'the CLI and the IPC backend are plain-Node siblings on core.',
  ipc: 'the IPC backend runs without Electron (tests, the e2e backend) and beside the CLI, not on it.',
  renderer: 'the renderer reaches the backend only through the IPC contract and window.ferry.',
};
const inside = (dir, file) => {
  const rel = path.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
};
const stageOf = (file) =>
  inside(coreRoot, file) ? path.relative(coreRoot, file).split(path.sep)[0] : undefined;
const frontOf = (file) => Object.keys(FRONTS).find((f) => inside(FRONTS[f], file));
const withoutExt = (file) => file.replace(/\.(js|ts|tsx|mjs)$/, '');
const zoneProblem = (from, to) => {
  const fromStage = stageOf(from);
  const toStage = stageOf(to);
  if (fromStage !== undefined) {
    const toFront = frontOf(to);
    if (toFront) return `core never imports the ${toFront} front: fronts call core, not the other way.`;
    if (
      STAGES.includes(fromStage) &&
      STAGES.includes(toStage) &&
      STAGES.indexOf(toStage) > STAGES.indexOf(fromStage)
    ) {
      return `core/${fromStage} comes before core/${toStage} in the data flow (${STAGES.join(' → ')}) and must not import it.`;
    }
    if (STAGES.includes(fromStage) && toStage === 'kinds' && !KIND_DOORS.includes(withoutExt(to))) {
      return `core/${fromStage} reaches the artifact kinds only through core/kinds/index.ts (or the pure kinds/labels.ts and kinds/sets.ts), not core/kinds/${path.relative(path.join(coreRoot, 'kinds'), to)}.`;
    }
    return undefined;
  }
  const fromFront = frontOf(from);
  const toFront = frontOf(to);
  if (fromFront && toFront && (FRONT_REFUSES[fromFront] ?? []).includes(toFront)) {
    return `the ${fromFront} front must not import the ${toFront} front: ${FRONT_WHY[fromFront]}`;
  }
  return undefined;
};
const importZones = {
  meta: { type: 'problem', schema: [] },
  create(context) {
    const check = (node) => {
      const spec = node.source && node.source.value;
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const message = zoneProblem(context.filename, path.resolve(path.dirname(context.filename), spec));
      if (message) context.report({ node, message });
    };
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: check,
    };
  },
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', 'dist/**', 'coverage/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      ...noElectron,
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-control-regex': 'off',
    },
  },
  {
    files: ['src-main/**/*.ts', 'src-renderer/**/*.{ts,tsx}'],
    plugins: { ferry: { rules: { 'import-zones': importZones } } },
    rules: { 'ferry/import-zones': 'error' },
  },
  {
    // Hooks called conditionally or with stale dependencies are the renderer's likeliest bugs.
    files: ['src-renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
    },
  },
  {
    files: ['src-main/shell/**', 'src-main/preload/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
