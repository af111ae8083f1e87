// Preloaded (`node -r`) into a server by ../startup-modules.test.ts: on SIGUSR2 it writes what the process holds to
// the file named by LOADED_MODULES_OUT: the files required so far (require.cache), the built-in modules loaded
// (process.moduleLoadList), and the size of V8's young generation.
const { writeFileSync } = require('node:fs');
const { getHeapSpaceStatistics } = require('node:v8');

process.on('SIGUSR2', () => {
  const newSpace = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  const report = {
    files: Object.keys(require.cache),
    builtins: process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)),
    newSpaceBytes: newSpace ? newSpace.space_size : -1,
  };
  writeFileSync(process.env.LOADED_MODULES_OUT, JSON.stringify(report));
});
