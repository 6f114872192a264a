// Starts a real tether-server on 127.0.0.1:0 with a fresh SQLite database and
// data directory, and stops it (by its PID) afterwards.

import { spawn } from 'node:child_process';
import { mkdtemp, rm, access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Cargo's target dir: `CARGO_TARGET_DIR`, by default `~/.cache/tether/target` as in scripts/lib.sh. */
export function cargoTargetDir() {
  return process.env.CARGO_TARGET_DIR || path.join(homedir(), '.cache', 'tether', 'target');
}

/** The server binary: `TETHER_SERVER_BIN`, else the debug build in Cargo's target dir. */
export function serverBinary() {
  return process.env.TETHER_SERVER_BIN ?? path.join(cargoTargetDir(), 'debug', 'tether-server');
}

/** The built web app: `TETHER_WEB_DIR`, else `web/dist`. */
export function webDir() {
  return process.env.TETHER_WEB_DIR ?? path.join(repoRoot, 'web', 'dist');
}

/**
 * Starts the server, with `env` added to its environment, listening on
 * `listen` (by default a free loopback port), its embedded relay on
 * `embeddedTurn` (`off` for none) and `args` added to `serve`'s flags.
 * Resolves once it prints its URL, with `{ url, adminPassword, stop, signal, output }`;
 * rejects if it exits first or the deadline passes.
 */
export async function startServer({
  deadlineMs = 60_000,
  env = {},
  listen = '127.0.0.1:0',
  // Several servers run at once: no fighting over the default 3478.
  embeddedTurn = '127.0.0.1:0',
  args = [],
} = {}) {
  const binary = serverBinary();
  await access(binary).catch(() => {
    throw new Error(`server binary not found at ${binary}: build it with \`cargo build -p tether-server\` or set TETHER_SERVER_BIN`);
  });
  const web = webDir();
  await access(path.join(web, 'index.html')).catch(() => {
    throw new Error(`web app not built at ${web}: run \`trunk build --release\``);
  });

  const dir = await mkdtemp(path.join(tmpdir(), 'tether-e2e-'));
  const child = spawn(
    binary,
    [
      'serve',
      '--listen', listen,
      '--database-url', `sqlite://${path.join(dir, 'tether.db')}`,
      '--data-dir', path.join(dir, 'data'),
      '--web-dir', web,
      '--embedded-turn', embeddedTurn,
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TETHER_LOG: process.env.TETHER_LOG ?? 'info,sqlx=warn', ...env } },
  );

  const output = [];
  const remember = (stream) => (line) => {
    output.push(`[${stream}] ${line}`);
    if (process.env.TETHER_E2E_VERBOSE) console.error(`server ${stream}: ${line}`);
  };
  createInterface({ input: child.stderr }).on('line', remember('stderr'));
  const stdout = createInterface({ input: child.stdout });

  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
      }, 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const started = await new Promise((resolve, reject) => {
      let adminPassword = null;
      const timer = setTimeout(
        () => reject(new Error(`server did not report its address within ${deadlineMs} ms\n${output.join('\n')}`)),
        deadlineMs,
      );
      stdout.on('line', (line) => {
        remember('stdout')(line);
        const password = line.match(/one-time password: (\S+)/);
        if (password) adminPassword = password[1];
        const listening = line.match(/listening on (http:\/\/\S+)/);
        if (listening) {
          clearTimeout(timer);
          resolve({ url: listening[1], adminPassword });
        }
      });
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`server exited early (code ${code}, signal ${signal})\n${output.join('\n')}`));
      });
    });
    /** Sends `signal` to the server process (e.g. SIGSTOP to freeze it, SIGCONT to resume). */
    const signal = (name) => process.kill(child.pid, name);
    return { ...started, stop, signal, output, dataDir: dir };
  } catch (error) {
    await stop();
    throw error;
  }
}
