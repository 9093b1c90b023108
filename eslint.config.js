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

// Core is grouped by stage, in the order data flows. A stage may import its own folder and the
// stages before it, never one after it (type-only imports included: a lower stage that needs a
// higher one's shape should own the type). Enforced by a small local rule rather than a plugin:
// it resolves each relative specifier against the importing file.
const STAGES = ['base', 'bundle', 'plan', 'fetch', 'media', 'serve', 'deploy'];
const coreRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), 'src-main', 'core');
const stageOf = (file) => {
  const rel = path.relative(coreRoot, file);
  return rel.startsWith('..') ? undefined : rel.split(path.sep)[0];
};
const stageOrder = {
  meta: { type: 'problem', schema: [] },
  create(context) {
    const from = stageOf(context.filename);
    if (!STAGES.includes(from)) return {};
    const check = (node) => {
      const spec = node.source && node.source.value;
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const to = stageOf(path.resolve(path.dirname(context.filename), spec));
      if (STAGES.includes(to) && STAGES.indexOf(to) > STAGES.indexOf(from)) {
        context.report({
          node,
          message: `core/${from} comes before core/${to} in the data flow (${STAGES.join(' → ')}) and must not import it.`,
        });
      }
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
    files: ['src-main/core/**/*.ts'],
    plugins: { ferry: { rules: { 'stage-order': stageOrder } } },
    rules: { 'ferry/stage-order': 'error' },
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
