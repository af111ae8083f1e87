// Shared jest settings for every package. Tests are TypeScript, compiled to CommonJS by swc.
// `age-encryption` and its @noble/@scure dependencies ship ESM only: they are let through the
// transform so that jest's CommonJS runtime can load them.
const path = require('node:path');

/** @param {string} dir the package directory (pass __dirname) */
module.exports = function jestConfig(dir) {
  return {
    rootDir: dir,
    testEnvironment: 'node',
    testMatch: ['<rootDir>/test/**/*.test.ts'],
    transform: {
      '^.+\\.(t|j|mj)s$': [
        require.resolve('@swc/jest'),
        {
          jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
          module: { type: 'commonjs' },
        },
      ],
    },
    transformIgnorePatterns: ['/node_modules/(?!\\.pnpm|age-encryption|@noble|@scure)'],
    moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
    // Workspace packages resolve to their sources, so a test never runs against a stale build.
    moduleNameMapper: {
      '^@proj/(protocol|crypto|test-utils|cli-kit)$': path.join(__dirname, 'packages/$1/src/index.ts'),
      // @proj/protocol's subpath entries (package.json `exports`): `/wire` and `/dict`.
      '^@proj/protocol/(wire|dict)$': path.join(__dirname, 'packages/protocol/src/$1/index.ts'),
    },
    testTimeout: 30000,
  };
};
