// ESLint flat config for the Latchkey monorepo.
//
// Run it through Nx (`npm run lint` = `nx run-many -t lint`): the
// @nx/enforce-module-boundaries rule needs Nx's project graph. Plain `eslint`
// on a checkout without a cached graph silently skips that rule (it prints a
// "No cached ProjectGraph is available" warning and exits 0), and with a stale
// cached graph it checks against stale tags. See docs/adr/0006-module-boundaries.md.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

// Globals of the Node.js that runs ESLint (process, console, Buffer, URL,
// fetch, setTimeout, ...), for the plain-JS *.mjs scripts. Taken from the
// runtime itself so that no extra `globals` dependency is needed.
const nodeGlobals = Object.fromEntries(
  Object.getOwnPropertyNames(globalThis)
    .filter((name) => /^[A-Za-z_$][\w$]*$/.test(name))
    .map((name) => [name, 'readonly']),
);

// ---------------------------------------------------------------------------
// Module boundaries (tags live in each apps/*/package.json and
// libs/*/package.json under `nx.tags`). For every constraint whose sourceTag
// the importing project carries, the imported project must satisfy it: type
// and scope constraints therefore combine (AND).
// ---------------------------------------------------------------------------
const SERVICE_SCOPES = ['token', 'identity', 'device-registry', 'delegation', 'policy', 'gateway'];

const typeConstraints = ({ testing }) => {
  const extra = testing ? ['type:testing'] : [];
  return [
    // Apps compose service libs on top of the platform; never another app.
    { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:service', 'type:platform', 'type:contracts', ...extra] },
    // A service lib never imports another service's lib: services talk over
    // messaging, using the shared contracts.
    { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:platform', 'type:contracts', ...extra] },
    { sourceTag: 'type:platform', onlyDependOnLibsWithTags: ['type:platform', 'type:contracts', ...extra] },
    { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'] },
    // Test helpers may use anything except an app.
    { sourceTag: 'type:testing', notDependOnLibsWithTags: ['type:app'] },
  ];
};

const scopeConstraints = [
  // scope:token may depend on scope:token and scope:shared only; likewise every service scope.
  ...SERVICE_SCOPES.map((scope) => ({
    sourceTag: `scope:${scope}`,
    onlyDependOnLibsWithTags: [`scope:${scope}`, 'scope:shared'],
  })),
  // The all-in-one process composes every service lib, but no app.
  { sourceTag: 'scope:embedded', notDependOnLibsWithTags: ['type:app'] },
];

const moduleBoundaries = ({ testing, allow = [] }) => [
  'error',
  {
    enforceBuildableLibDependency: false,
    allow,
    depConstraints: [...typeConstraints({ testing }), ...scopeConstraints],
  },
];

export default defineConfig(
  {
    ignores: [
      '**/dist/**',
      '**/dist-run/**',
      '**/generated/**',
      '**/node_modules/**',
      '**/.data/**',
      '**/.tools/**',
      '**/.nx/**',
      '**/coverage/**',
      '**/tmp/**',
    ],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },

  // Plain-JS config files and scripts: ESLint's recommended rules + Node globals only.
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    extends: [js.configs.recommended],
    languageOptions: {
      ecmaVersion: 'latest',
      sourceType: 'module',
      globals: nodeGlobals,
    },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...nodeGlobals, require: 'readonly', module: 'writable', exports: 'writable', __dirname: 'readonly', __filename: 'readonly' } },
  },

  // TypeScript sources.
  {
    files: ['**/*.ts', '**/*.mts', '**/*.cts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    plugins: { '@nx': nx },
    languageOptions: {
      ecmaVersion: 'latest',
      sourceType: 'module',
    },
    rules: {
      // `_`-prefixed names mark intentionally unused parameters/bindings
      // (Nest handler signatures, interface implementations, destructuring).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // `@Module({...}) export class FooModule {}` is the Nest idiom: empty
      // classes are fine when decorated; undecorated static-only/empty classes are not.
      '@typescript-eslint/no-extraneous-class': ['error', { allowWithDecorator: true }],
      // Nest handlers and providers often implement an interface method that does nothing.
      '@typescript-eslint/no-empty-function': 'off',
      // Do NOT enable @typescript-eslint/consistent-type-imports: with
      // emitDecoratorMetadata a type-only import of an injected class erases the
      // runtime reference Nest's dependency injection needs.
      '@nx/enforce-module-boundaries': moduleBoundaries({ testing: false }),
    },
  },

  // Tests may additionally use the shared test helpers (type:testing).
  {
    files: ['**/*.spec.ts', '**/*.test.ts', '**/test/**/*.ts', '**/tests/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': moduleBoundaries({ testing: true }),
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },

  // The shared test helpers (type:testing) may start the local test
  // infrastructure from the workspace tooling (tools/infra/*.mjs, not an Nx
  // project); nothing else may import files outside a project by path.
  {
    files: ['libs/testing/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': moduleBoundaries({
        testing: true,
        allow: ['^(\\.\\./)+tools/infra/[\\w.-]+\\.mjs$'],
      }),
    },
  },
);
