// A private X server (Xvfb) for tests that stream a screen: it picks a free
// display number itself (`-displayfd`), listens on no TCP port, and is
// stopped by its PID.

import { displayOf, startProcess } from './process.mjs';

/**
 * Starts Xvfb with one `width`×`height`×24 screen. Resolves, once it has
 * reported its display number, to `{ display, pid, output, stop }`
 * (`display` like `:7`); rejects if it exits first or the deadline passes.
 */
export async function startXvfb({ width = 1280, height = 720, deadlineMs = 20_000 } = {}) {
  const xvfb = startProcess(
    'Xvfb',
    ['-displayfd', '1', '-nolisten', 'tcp', '-noreset', '-screen', '0', `${width}x${height}x24`],
    { label: 'Xvfb', streams: ['stderr'] },
  );
  try {
    const hint = 'Debian package xvfb; scripts/test.sh installs it';
    const display = await displayOf(xvfb, { label: 'Xvfb', hint, deadlineMs });
    return { display, pid: xvfb.child.pid, output: xvfb.output, stop: xvfb.stop };
  } catch (error) {
    await xvfb.stop();
    throw error;
  }
}
