// Investigation aid for `npm run bench -- --cpu-prof DIR`: Node 20 refuses --cpu-prof in NODE_OPTIONS,
// so the benchmark preloads this file instead (NODE_OPTIONS="--import .../bench/cpu-profile.mjs",
// CPU_PROFILE_DIR=DIR). The first SIGUSR2 starts the V8 CPU profiler, the second writes
// DIR/<service>-<pid>.cpuprofile (open it in Chrome DevTools or speedscope). Nothing else changes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const dir = process.env.CPU_PROFILE_DIR ?? '/tmp/prof';
const service = /apps\/([^/]+)\/dist/.exec(process.argv[1] ?? '')?.[1] ?? 'process';
const session = new Session();
session.connect();
const post = (method, params = {}) => new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));

let profiling = false;
process.on('SIGUSR2', async () => {
  try {
    if (!profiling) {
      profiling = true;
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 200 });
      await post('Profiler.start');
      return;
    }
    profiling = false;
    const { profile } = await post('Profiler.stop');
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/${service}-${process.pid}.cpuprofile`, JSON.stringify(profile));
  } catch (error) {
    process.stderr.write(`[cpu-profile] ${error.message}\n`);
  }
});
