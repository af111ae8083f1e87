// A/B of the server's CPU per durable dictionary ack: server CPU time (utime + stime) over N acks.
const { readFileSync, mkdtempSync, rmSync } = require('node:fs');
const { join } = require('node:path');
const { startServerProcess } = require('./dist/server-process.js');
const { connect } = require('@proj/protocol');
const { encodeDict } = require('@proj/protocol/dict');
const { dictOfSize } = require('./dist/rows/dicts.js');

const tick = 100; // USER_HZ
function cpu(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { user: Number(f[11]) / tick, sys: Number(f[12]) / tick };
}
async function one(main, format, clientsN, count, base) {
  if (main) process.env.BENCH_SERVER_MAIN = main; else delete process.env.BENCH_SERVER_MAIN;
  const dir = mkdtempSync(join(base, 'ab-'));
  const server = await startServerProcess({ dataDir: join(dir, 'data'), logDir: dir, ...(process.env.PROF ? { nodeFlags: ['--cpu-prof', '--cpu-prof-dir', process.env.PROF] } : {}) });
  const dict = dictOfSize(format);
  const clients = await Promise.all(Array.from({ length: clientsN }, () => connect({ host: server.host, port: server.port })));
  let left = count / 4;
  const run = async () => Promise.all(clients.map(async (c) => { while (left-- > 0) await c.sendDict(dict, { format }); }));
  await run(); // warm-up
  left = count;
  const c0 = cpu(server.pid); const t0 = performance.now();
  const lat = [];
  await Promise.all(clients.map(async (c) => { while (left-- > 0) { const a = performance.now(); await c.sendDict(dict, { format }); lat.push(performance.now() - a); } }));
  const t1 = performance.now(); const c1 = cpu(server.pid);
  await Promise.all(clients.map((c) => c.close()));
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
  lat.sort((a, b) => a - b);
  return { userUs: ((c1.user - c0.user) / count) * 1e6, sysUs: ((c1.sys - c0.sys) / count) * 1e6, perS: count / ((t1 - t0) / 1000), p50: lat[lat.length >> 1], p99: lat[Math.floor(lat.length * 0.99)] };
}
(async () => {
  const [, , rounds = '3', format = 'json', clientsN = '32', count = '20000', base = '/dev/shm'] = process.argv;
  const builds = { new: undefined, old: process.env.OLD_MAIN };
  for (let r = 0; r < Number(rounds); r++) {
    for (const [name, main] of Object.entries(builds)) {
      const x = await one(main, format, Number(clientsN), Number(count), base);
      const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
      console.log(`${name} ${format} c=${clientsN} cpu/ack user ${x.userUs.toFixed(1)} us sys ${x.sysUs.toFixed(1)} us total ${(x.userUs + x.sysUs).toFixed(1)} us | ${x.perS.toFixed(0)}/s p50 ${x.p50.toFixed(2)} p99 ${x.p99.toFixed(2)} ms | load ${load}`);
    }
  }
})();
