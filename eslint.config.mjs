import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import importPlugin from 'eslint-plugin-import';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/',
      '**/cdk.out/',
      'out/',
      'coverage/',
      'dist/',
      'bin/pipemend.js',
      'jest.config.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    // Only the resolver-free import rules: tsc already proves every import resolves.
    plugins: { import: importPlugin },
    rules: {
      eqeqeq: ['error', 'always'],
      'import/no-duplicates': 'error',
      'import/first': 'error',
      'import/order': [
        'error',
        {
          groups: ['builtin', 'external', 'internal', ['parent', 'sibling', 'index']],
          'newlines-between': 'always',
          alphabetize: { order: 'asc', caseInsensitive: true },
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['core/**/*.ts', 'lambda/**/*.ts', 'lib/**/*.ts', 'sagemaker/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    // The example's test runs on plain Node.js (node --test), as CommonJS.
    files: ['examples/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
