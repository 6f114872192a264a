// What a benchmark needs to open a real session: the server with an
// administrator, a technician and unattended access allowed; an enrolled
// agent run with `--unattended` on a private X display; the technician's
// Chromium page signed in and connected through Targets → Connect; the
// page's RTCPeerConnections kept for getStats(); the agent's session bar
// found with xdotool; the machine the figures came from; and the results
// files (<out>/<date>-<name>-<host>.{json,md}) they are written to.

import { execFile, execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, hostname, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { allowUnattended, call, createEnrollmentToken, createUser, firstLogin, login } from '../../e2e/lib/api.mjs';
import { agentBinary, enrollAgent, repoRoot, serverBinary, startServer } from './server.mjs';
import { start, until } from './procs.mjs';

export const ADMIN_PASSWORD = 'bench-admin-correct-horse-42';
export const TECH = { username: 'bench', displayName: 'Bench Technician', role: 'technician', password: 'bench-one-time-pass-1' };
export const TECH_PASSWORD = 'bench-battery-staple-7';

const runFile = promisify(execFile);

/** The machine, the build and the load, for a results file's header. */
export function machineInfo() {
  const sh = (command, commandArgs) => {
    try {
      return execFileSync(command, commandArgs, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return 'unknown';
    }
  };
  const build = (binary) => (/\/release\//.test(binary) ? 'release' : /\/debug\//.test(binary) ? 'debug' : 'unknown');
  return {
    host: hostname(),
    date: new Date().toISOString().slice(0, 10),
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    ramGiB: (totalmem() / 2 ** 30).toFixed(1),
    kernel: sh('uname', ['-r']),
    node: process.version,
    chromium: sh(process.env.TETHER_CHROMIUM ?? '/usr/bin/chromium', ['--version']).split('\n').pop(),
    tether: process.env.BENCH_TETHER_VERSION ?? sh('git', ['-C', repoRoot, 'describe', '--always', '--dirty']),
    agentBinary: agentBinary(),
    serverBinary: serverBinary(),
    agentBuild: build(agentBinary()),
    serverBuild: build(serverBinary()),
    loadStart: loadNow(),
  };
}

/** The load averages (1, 5, 15 min) now, as `machineInfo().loadStart` gives them (for `loadEnd`). */
export const loadNow = () => loadavg().map((v) => v.toFixed(2)).join(' ');

/** A results file's "## Machine" section (Markdown lines, a blank one last) for `machineInfo()` with `loadEnd` set. */
export const machineSection = (machine, started, finished) => [
  '## Machine',
  '',
  `- CPU: ${machine.cpu} × ${machine.nproc}; RAM ${machine.ramGiB} GiB; kernel ${machine.kernel}`,
  `- ${machine.chromium}; Node ${machine.node}; Tether ${machine.tether}`,
  `- agent ${machine.agentBinary} (${machine.agentBuild}), server ${machine.serverBinary} (${machine.serverBuild})`,
  `- load average at start ${machine.loadStart}, at end ${machine.loadEnd}; ${started} → ${finished}`,
  '',
];

/** A results file's section listing what failed (Markdown lines, a blank one last; none when nothing did): `- run N[, kind]: first line of the error`. */
export const failuresSection = (heading, failures) =>
  failures.length
    ? [`## ${heading}`, '', ...failures.map(({ run, kind, error }) => `- run ${run}${kind ? `, ${kind}` : ''}: ${error.split('\n')[0]}`), '']
    : [];

/** JSON replacer: figures to 0.001, which is more than they are worth. */
const roundNumbers = (_key, value) => (typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value);

/**
 * Writes `results` (figures rounded to 0.001) to `<outDir>/<date>-<name>-<host>.json`,
 * date and host from `results.machine`, and `markdown` beside it as `.md`;
 * resolves to the Markdown file's path.
 */
export async function writeResults(outDir, name, results, markdown) {
  await mkdir(outDir, { recursive: true });
  const base = path.join(outDir, `${results.machine.date}-${name}-${results.machine.host}`);
  await writeFile(`${base}.json`, `${JSON.stringify(results, roundNumbers, 2)}\n`);
  await writeFile(`${base}.md`, markdown);
  return `${base}.md`;
}

/**
 * A server with a fresh database, unattended access allowed by policy, the
 * technician `TECH` (password `TECH_PASSWORD`) and one agent enrolled into
 * `configPath`. Resolves to `{ server, agentId }`; the caller stops the server.
 */
export async function prepareServer(configPath, label) {
  const server = await startServer();
  try {
    const adminToken = await firstLogin(server.url, 'admin', server.adminPassword, ADMIN_PASSWORD);
    await allowUnattended(server.url, adminToken);
    await createUser(server.url, adminToken, TECH);
    await firstLogin(server.url, TECH.username, TECH.password, TECH_PASSWORD);
    await enrollAgent(server.url, await createEnrollmentToken(server.url, adminToken, label), configPath);
    const agentId = JSON.parse(await readFile(configPath, 'utf8')).agent_id;
    return { server, agentId };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** `tether-agent run --unattended --webrtc-bind 127.0.0.1:0` on `display`; returns the process (see procs.mjs `start`). */
export function startAgent(configPath, display, env = {}) {
  const { DISPLAY, WAYLAND_DISPLAY, ...inherited } = process.env;
  return start('tether-agent', agentBinary(), ['run', '--config', configPath, '--unattended', '--webrtc-bind', '127.0.0.1:0'], {
    env: { ...inherited, DISPLAY: display, TETHER_LOG: process.env.TETHER_LOG ?? 'info', ...env },
  });
}

/** Waits until the server lists agent `agentId` as online. */
export async function agentOnline(serverUrl, agentId, deadlineMs = 30_000) {
  const token = await login(serverUrl, TECH.username, TECH_PASSWORD);
  await until(async () => {
    const { body } = await call(serverUrl, 'GET', '/api/targets', { token });
    return body?.find?.((target) => target.id === agentId && target.online);
  }, 'the agent online', deadlineMs);
}

/**
 * Injected into the technician's page before its scripts
 * (`page.addInitScript(keepPeerConnections)`): keeps every
 * RTCPeerConnection the page makes in `window.__benchPeers`, newest last.
 */
export function keepPeerConnections() {
  const peers = [];
  window.__benchPeers = peers;
  const Native = window.RTCPeerConnection;
  if (!Native) return;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      peers.push(this);
    }
  };
}

/** Signs the technician in unless the Targets page is already showing. */
export async function toTargets(page, serverUrl) {
  const title = page.getByTestId('page-title').filter({ hasText: 'Targets' });
  if (await title.isVisible().catch(() => false)) return;
  const nav = page.getByTestId('nav-targets');
  if (await nav.isVisible().catch(() => false)) await nav.click();
  else await page.goto(`${serverUrl}/targets`);
  const loginForm = page.getByTestId('login-form');
  await Promise.race([loginForm.waitFor(), title.waitFor()]);
  if (await loginForm.isVisible()) {
    await page.getByTestId('login-username').fill(TECH.username);
    await page.getByTestId('login-password').fill(TECH_PASSWORD);
    await page.getByTestId('login-submit').click();
  }
  await title.waitFor();
}

/**
 * Targets → Connect on agent `agentId`, until the page says connected.
 * Resolves to the session id (from the page's address).
 */
export async function connectFromTargets(page, serverUrl, agentId, deadlineMs = 30_000) {
  await toTargets(page, serverUrl);
  const row = page.locator(`[data-testid="target-row"][data-id="${agentId}"]`);
  await row.locator('[data-testid="target-status"][data-status="online"]').waitFor({ timeout: deadlineMs });
  await row.getByTestId('target-connect').click();
  await page.waitForURL(/\/sessions\/[0-9a-f-]{36}$/, { timeout: deadlineMs });
  await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor({ timeout: deadlineMs });
  return page.url().match(/\/sessions\/([0-9a-f-]{36})$/)[1];
}

/** Runs `xdotool args` on `display`; resolves to its stdout (rejects when it exits non-zero, e.g. a search finding nothing). */
export async function xdotool(display, ...args) {
  const { stdout } = await runFile('xdotool', args, { env: { ...process.env, DISPLAY: display } });
  return stdout;
}

/** The id of the agent's session bar (the X window named "Tether session"), or null when none is on `display`. */
export const sessionBarId = (display) =>
  xdotool(display, 'search', '--name', '^Tether session$').then((stdout) => stdout.trim().split('\n')[0] || null, () => null);

/** The geometry of X window `id`: `{ x, y, width, height }`. */
export async function windowGeometry(display, id) {
  const stdout = await xdotool(display, 'getwindowgeometry', '--shell', id);
  const shell = Object.fromEntries(stdout.trim().split('\n').map((line) => line.split('=')));
  return { x: Number(shell.X), y: Number(shell.Y), width: Number(shell.WIDTH), height: Number(shell.HEIGHT) };
}

/** Waits for the session bar on `display`; resolves to `{ id, x, y, width, height }`. */
export async function sessionBar(display, deadlineMs = 20_000) {
  const id = await until(() => sessionBarId(display), 'the session bar on the display', deadlineMs);
  return { id, ...(await windowGeometry(display, id)) };
}

/** Where to click to end the session from the bar: its X, the right end (folded or not). */
export const barEndSpot = (bar) => ({ x: bar.x + bar.width - 10, y: bar.y + 12 });
