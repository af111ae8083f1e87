const path = require('node:path');
const base = require('../../jest.config.base.js')(__dirname);

module.exports = {
  ...base,
  // The server under test runs in-process from its sources, like the workspace packages.
  moduleNameMapper: {
    ...base.moduleNameMapper,
    '^server$': path.join(__dirname, '../server/src/index.ts'),
  },
  // Builds dist/main.js once: the exit-code and pseudo-terminal tests run the real program.
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  testTimeout: 60000,
};
