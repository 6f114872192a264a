// The benchmark's own server start (independent of e2e/lib, which follows
// the test suites): a release tether-server on 127.0.0.1:0 with a fresh
// SQLite database, and `tether-agent enroll` for the senders.

import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { start } from './procs.mjs';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const targetDir = process.env.CARGO_TARGET_DIR || path.join(homedir(), '.cache', 'tether', 'target');

/** `TETHER_SERVER_BIN`, else the release build. */
export const serverBinary = () => process.env.TETHER_SERVER_BIN ?? path.join(targetDir, 'release', 'tether-server');
/** `TETHER_AGENT_BIN`, else the release build. */
export const agentBinary = () => process.env.TETHER_AGENT_BIN ?? path.join(targetDir, 'release', 'tether-agent');
/** `TETHER_WEB_DIR`, else `web/dist`. */
export const webDir = () => process.env.TETHER_WEB_DIR ?? path.join(repoRoot, 'web', 'dist');

/** Starts the server; resolves to `{ url, adminPassword, stop }`. */
export async function startServer() {
  const dir = await mkdtemp(path.join(tmpdir(), 'tether-bench-server-'));
  const server = start('server', serverBinary(), [
    'serve',
    '--listen', '127.0.0.1:0',
    '--database-url', `sqlite://${path.join(dir, 'tether.db')}`,
    '--data-dir', path.join(dir, 'data'),
    '--web-dir', webDir(),
  ], {
    env: {
      ...process.env,
      TETHER_LOG: process.env.TETHER_LOG ?? 'warn',
      // No TURN relay in the measured path (and no fight over port 3478).
      TETHER_EMBEDDED_TURN: process.env.TETHER_EMBEDDED_TURN ?? 'off',
    },
  });
  const stop = async () => {
    await server.stop(10_000);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const password = server.waitForLine(/one-time password: (\S+)/, 60_000);
    const [, url] = await server.waitForLine(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 60_000);
    return { url, adminPassword: (await password)[1], stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** `tether-agent enroll`: writes the agent configuration to `configPath`. */
export async function enrollAgent(serverUrl, token, configPath) {
  const { DISPLAY, ...env } = process.env;
  const enroll = start('enroll', agentBinary(), ['enroll', '--server', serverUrl, '--token', token, '--config', configPath], { env });
  const { code } = await enroll.exited;
  if (code !== 0) throw new Error(`tether-agent enroll failed:\n${enroll.output.join('\n')}`);
}
