import eslint from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', '.redis-data/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    // The page at / runs in browsers.
    files: ['apps/api/public/**'],
    languageOptions: { globals: globals.browser },
  },
  {
    // Scripts talk to a person at a terminal.
    files: ['scripts/**', 'packages/*/scripts/**'],
    rules: { 'no-console': 'off' },
  },
);
