// What the e2e fixtures that run a server program share (Xvfb, Xorg,
// coturn, QEMU): start it, keep its output lines (echoed with
// TETHER_E2E_VERBOSE), know when it exited, stop it by its PID; and, for
// X servers started with `-displayfd 1`, read the display number it picks.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** How long `stop()` waits after SIGTERM before SIGKILL. */
const KILL_AFTER_MS = 10_000;

/**
 * Starts `command ...args` with its output piped. `label` names it in its
 * kept lines; `streams` says which of `stdout` and `stderr` are kept as
 * lines (an X server's stdout carries its display number instead), and
 * `labels` may name each differently (`{ stdout: 'vm', stderr: 'qemu' }`);
 * `clean` turns a raw line into the kept one. Returns `{ child, output,
 * exited, running, startError, stop }`: `exited` resolves to `{ code,
 * signal }` (both null when it could not be started at all,
 * `startError()` then says why); `stop()` sends SIGTERM, SIGKILL if it is
 * still running 10 s later, and waits.
 */
export function startProcess(
  command,
  args,
  { label = command, streams = ['stdout', 'stderr'], labels = {}, clean = (line) => line } = {},
) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = [];
  for (const name of streams) {
    const tag = labels[name] ?? label;
    createInterface({ input: child[name] }).on('line', (raw) => {
      const line = clean(raw);
      output.push(`[${tag}] ${line}`);
      if (process.env.TETHER_E2E_VERBOSE) console.error(`${tag}: ${line}`);
    });
  }
  let failedToStart = null;
  const exited = new Promise((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
    // Not started at all (not on PATH): there is nothing to stop.
    child.once('error', (error) => {
      failedToStart = error;
      resolve({ code: null, signal: null });
    });
  });
  const running = () => child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (running()) {
      process.kill(child.pid, 'SIGTERM');
      const killer = setTimeout(() => running() && process.kill(child.pid, 'SIGKILL'), KILL_AFTER_MS);
      await exited;
      clearTimeout(killer);
    }
    await exited;
  };
  return { child, output, exited, running, startError: () => failedToStart, stop };
}

/**
 * The display number an X server started by [`startProcess`] with
 * `-displayfd 1` prints on its first stdout line, as `:N`. Rejects when it
 * cannot start (`hint` says which package to install), exits first, or
 * says nothing within `deadlineMs` (`describe()` adds to those errors).
 */
export function displayOf(server, { label, hint, deadlineMs, describe = () => server.output.join('\n') }) {
  const { child, exited } = server;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${label} reported no display within ${deadlineMs} ms\n${describe()}`)),
      Math.max(0, deadlineMs),
    );
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${label} (${hint}): ${error.message}`));
    });
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      if (/^\d+$/.test(line.trim())) resolve(`:${line.trim()}`);
      else reject(new Error(`${label} printed ${JSON.stringify(line)} instead of a display number`));
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited early (code ${code}, signal ${signal})\n${describe()}`));
    });
  });
}
