/**
 * One jest run for the whole repository: unit tests (`*.spec.ts`), integration tests against real
 * PostgreSQL and NATS (`*.int.spec.ts`) and end-to-end tests over HTTP (`*.e2e.spec.ts`).
 * NestJS 12 is ESM-only, so jest runs in ESM mode (docs/adr/0002-esm-and-jest.md).
 */
export default {
  testEnvironment: 'node',
  testEnvironmentOptions: { customExportConditions: ['@latchkey/source', 'node', 'node-addons'] },
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  testMatch: ['<rootDir>/{apps,libs,tests}/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  globalSetup: '<rootDir>/tools/jest/global-setup.mjs',
  globalTeardown: '<rootDir>/tools/jest/global-teardown.mjs',
  testTimeout: 30_000,
  maxWorkers: 2,
};
