// ESLint (flat config) for lib/, test/, tools/ and playground/: `npm run lint`, run by `npm test`.
// Layout and spacing are Prettier's business (`npm run format`, .prettierrc.json), not ESLint's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      '.venv/',
      'dist/',
      'notebooks/',
      // AssemblyScript (i32, f32, v128, load<T>): not TypeScript's semantics; asc checks it (tools/build-wasm.js).
      'lib/assembly/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      // require() is how this code loads what may be absent: the optional native backend
      // (@tensorflow/tfjs-node), tslab (only inside a kernel), node's modules (not in the playground's
      // browser bundle), the CommonJS helpers of tools/. A static import would load them everywhere.
      '@typescript-eslint/no-require-imports': 'off',
      // A getter in an object literal has its own `this`: the compiled plan is named `plan` for it.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['plan'] }],
    },
  },
  {
    files: ['lib/**/*.ts'],
    rules: {
      // The library stands alone: it never reads the tests or the tools.
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/test/**', '**/tools/**'], message: 'lib/ must not import test/ or tools/' }] },
      ],
    },
  },
  {
    // Constants copied digit for digit from C sources (Cephes, avx_mathfun.h), then rounded to float32:
    // the extra digits are the reference's, the value used is f32(literal).
    files: ['lib/tensor/random.ts', 'lib/compile/vmath.ts'],
    rules: { 'no-loss-of-precision': 'off' },
  },
  {
    // The browser tests drive JupyterLab's own objects (window.jupyterapp, its widgets and models), which
    // have no types here; `any` says exactly that.
    files: ['test/notebooks/*.test.ts', 'test/helpers/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
      // `const crypto = require('crypto')` is node's module, meant to stand for the global of the same name.
      'no-redeclare': ['error', { builtinGlobals: false }],
    },
  },
);
