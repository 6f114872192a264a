// A private Xvfb of a given size for the benchmark, on a free display
// number from :140 up (clear of the low numbers tests and desktops use),
// stopped by its PID.

import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';

const FIRST_DISPLAY = 140;

const exists = (file) => access(file).then(() => true, () => false);

/** Starts Xvfb at `width`x`height`; resolves to `{ display, pid, stop }`. */
export async function startXvfb(width, height, deadlineMs = 20_000) {
  for (let number = FIRST_DISPLAY; number < FIRST_DISPLAY + 40; number += 1) {
    if (await exists(`/tmp/.X${number}-lock`)) continue;
    try {
      return await startOn(number, width, height, deadlineMs);
    } catch (error) {
      // Another process took the number meanwhile: try the next one.
      if (!/already active|Server is already/.test(error.message)) throw error;
    }
  }
  throw new Error('no free X display number');
}

function startOn(number, width, height, deadlineMs) {
  const child = spawn(
    'Xvfb',
    [`:${number}`, '-displayfd', '3', '-screen', '0', `${width}x${height}x24`, '-nolisten', 'tcp', '-noreset'],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => { log += chunk; });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid, 'SIGTERM');
      await exited;
    }
  };
  return new Promise((resolve, reject) => {
    let ready = '';
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`Xvfb did not start within ${deadlineMs} ms: ${log}`));
    }, deadlineMs);
    // With a display number given, -displayfd still reports readiness.
    child.stdio[3].setEncoding('utf8').on('data', (chunk) => {
      ready += chunk;
      if (ready.includes('\n')) {
        clearTimeout(timer);
        resolve({ display: `:${number}`, pid: child.pid, stop });
      }
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited (${code}): ${log}`));
    });
  });
}
