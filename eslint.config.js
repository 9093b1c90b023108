import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

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
    files: ['src-main/shell/**', 'src-main/preload/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
