// A private X server (Xvfb) for tests that stream a screen: it picks a free
// display number itself (`-displayfd`), listens on no TCP port, and is
// stopped by its PID.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Starts Xvfb with one `width`×`height`×24 screen. Resolves, once it has
 * reported its display number, to `{ display, pid, output, stop }`
 * (`display` like `:7`); rejects if it exits first or the deadline passes.
 */
export async function startXvfb({ width = 1280, height = 720, deadlineMs = 20_000 } = {}) {
  const child = spawn(
    'Xvfb',
    ['-displayfd', '1', '-nolisten', 'tcp', '-noreset', '-screen', '0', `${width}x${height}x24`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    output.push(`[Xvfb] ${line}`);
    if (process.env.TETHER_E2E_VERBOSE) console.error(`Xvfb: ${line}`);
  });
  const exited = new Promise((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
    // Not started at all (no Xvfb on PATH): there is nothing to stop.
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  const running = () => child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (running()) process.kill(child.pid, 'SIGTERM');
    await exited;
  };

  try {
    const number = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`Xvfb reported no display within ${deadlineMs} ms\n${output.join('\n')}`)),
        deadlineMs,
      );
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`cannot start Xvfb (Debian package xvfb; scripts/test.sh installs it): ${error.message}`));
      });
      createInterface({ input: child.stdout }).once('line', (line) => {
        clearTimeout(timer);
        if (/^\d+$/.test(line.trim())) resolve(line.trim());
        else reject(new Error(`Xvfb printed ${JSON.stringify(line)} instead of a display number`));
      });
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`Xvfb exited early (code ${code}, signal ${signal})\n${output.join('\n')}`));
      });
    });
    return { display: `:${number}`, pid: child.pid, output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
