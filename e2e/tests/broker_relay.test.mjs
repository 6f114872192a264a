// Broker sessions through a real coturn, and the ways a code is refused.
// The agent runs in a network namespace of its own (lib/netns.mjs) whose
// firewall lets out only the server's HTTP port and coturn's port on the
// host side of the link, so its session with the browser can only come up
// through the coturn broker: the technician starts a broker session in
// Chromium, `tether-agent connect CODE` inside the namespace takes it, the
// controller says "Connecting to" coturn, frames decode and the selected
// ICE candidate pair is a relay one. While that session runs, its code
// again and a wrong code are refused with clear messages and start nothing.
// A download from the computer is cut off by the namespace's UDP going
// away: the page says where it was interrupted and that it is
// reconnecting, and once the network is back the page reconnects and
// resumes from what it kept, and the file arrives whole.
// The agent is started with `--accept` (the person consents with the
// command). With the session policy's code lifetime set to its minimum, a
// code expires in the window, and the agent is then told the code has
// expired. Needs root (for the namespace), nftables and coturn; CI runs as
// root.

import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer } from '../lib/server.mjs';
import { requireAgentBinary, runAgentCommand, startAgentCommand } from '../lib/agent.mjs';
import { LOOPBACK_WEBRTC_ARGS, launchBrowser, watchPageErrors } from '../lib/browser.mjs';
import { stepRunner } from '../lib/steps.mjs';
import { showsText, signIn, shellOf } from '../lib/ui.mjs';
import { call, changeDefaultAccess, createUser, firstLogin, setSessionPolicy } from '../lib/api.mjs';
import { until } from '../lib/wait.mjs';
import { startXvfb } from '../lib/xvfb.mjs';
import { createNetns, run } from '../lib/netns.mjs';
import { startCoturn } from '../lib/coturn.mjs';
import { instrumentWebRtc, selectedPair, videoStats } from '../lib/rtc.mjs';

const ADMIN_PASSWORD = 'admin-correct-horse-42';
const TECH = { username: 'remy', displayName: 'Remy Relay', role: 'technician', password: 'remy-one-time-pass-1' };
const TECH_PASSWORD = 'remy-battery-staple-7';
const BROKER_PATH = /\/broker\/([^/?#]+)$/;
const SESSION_PATH = /\/sessions\/([^/?#]+)$/;
const CODE = /^\d{3} \d{3} \d{3}$/;
/** The shortest code lifetime a policy allows, in seconds. */
const SHORT_LIFETIME_SECS = 10;

/**
 * Opens a TCP connection to `host:port` from inside namespace `prefix`;
 * resolves to `connected`, `blocked` (no answer within `waitMs`) or
 * `error <code>`.
 */
async function tcpFromInside(prefix, host, port, waitMs = 700) {
  const script = `
    const socket = require('node:net').connect(${Number(port)}, ${JSON.stringify(host)});
    const done = (what) => { console.log(what); process.exit(0); };
    socket.setTimeout(${Number(waitMs)}, () => done('blocked'));
    socket.on('connect', () => done('connected'));
    socket.on('error', (error) => done('error ' + error.code));`;
  const [command, ...args] = [...prefix, process.execPath, '-e', script];
  return (await run(command, args)).trim();
}

/** Starts a server, creates the technician and returns `{ server, adminToken, techToken }`. */
async function serverWithTechnician(options) {
  const server = await startServer(options);
  assert.ok(server.adminPassword, `the server printed no one-time password:\n${server.output.join('\n')}`);
  const adminToken = await firstLogin(server.url, 'admin', server.adminPassword, ADMIN_PASSWORD);
  await createUser(server.url, adminToken, TECH);
  const techToken = await firstLogin(server.url, TECH.username, TECH.password, TECH_PASSWORD);
  return { server, adminToken, techToken };
}

describe('broker relay', () => {
  let netns;
  let coturn;
  let relay;
  let xvfb;
  let browser;
  let page;
  let workDir;
  let agent;
  let pageErrors = [];
  /** The agent's shared folder and the large file in it. */
  let shared;
  let dump;
  /** The relayed session: its broker-session id and code. */
  const session = {};
  const others = {};

  before(async () => {
    await requireAgentBinary();
    workDir = await mkdtemp(path.join(tmpdir(), 'tether-e2e-relay-'));
    netns = await createNetns();
    const secret = randomBytes(24).toString('hex');
    coturn = await startCoturn({ ip: netns.hostIp, secret });
    others.coturn = coturn.output;
    relay = await serverWithTechnician({
      listen: `${netns.hostIp}:0`,
      embeddedTurn: 'off',
      args: ['--broker', `coturn=${coturn.url}`, '--turn-secret', secret],
    });
    // `connect --accept` accepts the session only: here the policy asks
    // nothing more of the person (no assent to each access).
    await changeDefaultAccess(relay.server.url, relay.adminToken, { assent_each_time: [] });
    const serverPort = Number(new URL(relay.server.url).port);
    await netns.allowOnly([
      { protocol: 'tcp', port: serverPort },
      // UDP only to coturn: cutting it below leaves the session no path
      // (TURN over TCP is network_paths.test.mjs's).
      { protocol: 'udp', port: coturn.port },
    ]);
    // A file in the folder the agent shares, large enough to cut off mid-way.
    shared = path.join(workDir, 'shared');
    await mkdir(shared);
    dump = Buffer.alloc(12 * 1024 * 1024);
    for (let i = 0; i < dump.length; i += 4) dump.writeUInt32LE(Math.imul(i, 2654435761) >>> 0, i);
    await writeFile(path.join(shared, 'crash.dmp'), dump);
    xvfb = await startXvfb({ width: 640, height: 480 });
    others.Xvfb = xvfb.output;
    // The server is on plain HTTP at a private address, as no real
    // deployment is: Chromium treats it as secure, as it would HTTPS (file
    // downloads are kept in the origin's private file system, which only
    // secure pages have).
    browser = await launchBrowser({
      extraArgs: [...LOOPBACK_WEBRTC_ARGS, `--unsafely-treat-insecure-origin-as-secure=${relay.server.url}`],
    });
    await instrumentWebRtc(browser.context);
    page = await browser.context.newPage();
    pageErrors = watchPageErrors(page);
  });

  after(async () => {
    await agent?.kill('SIGKILL');
    await browser?.close();
    await relay?.server.stop();
    await coturn?.stop();
    await xvfb?.stop();
    await netns?.remove();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  const step = stepRunner('broker-relay', () => ({
    page,
    server: relay?.server ?? { output: [] },
    agent,
    others,
    pageErrors,
  }));
  const text = async (testid) => (await page.getByTestId(testid).first().textContent()).trim();

  /**
   * Opens a new connection-code window at `url`, signing the technician in
   * first unless `signedIn`; resolves to `{ id, code }`.
   */
  const startBrokerSession = async (url, { signedIn = false } = {}) => {
    await page.goto(signedIn ? `${url}/targets` : url);
    if (!signedIn) await signIn(page, TECH.username, TECH_PASSWORD);
    await shellOf(page, 'technician');
    await page.getByTestId('start-broker-session').click();
    await page.waitForURL(BROKER_PATH);
    const code = await text('broker-code');
    assert.match(code, CODE);
    return { id: decodeURIComponent(page.url().match(BROKER_PATH)[1]), code };
  };

  /** An agent configuration for `server` (made by `configure`, behind `prefix`). */
  const configureAgent = async (name, server, prefix = []) => {
    const configPath = path.join(workDir, `${name}.json`);
    const configured = await runAgentCommand(['configure', '--server', server.url, '--config', configPath], { prefix });
    assert.equal(configured.code, 0, `configure failed:\n${configured.stdout}${configured.stderr}`);
    assert.match(configured.stdout, /fetched the broker list \(1 broker\(s\)\)/, configured.stdout);
    return configPath;
  };

  /** Runs `connect code` to its end and asserts it was refused with `message`, starting nothing. */
  const refused = async (configPath, code, message) => {
    const outcome = await runAgentCommand(['connect', code, '--config', configPath]);
    assert.notEqual(outcome.code, 0, `connect succeeded:\n${outcome.stdout}${outcome.stderr}`);
    assert.ok(outcome.stderr.includes(message), `expected ${JSON.stringify(message)} in:\n${outcome.stderr}`);
    assert.ok(!outcome.stdout.includes('Connected:'), `a session started:\n${outcome.stdout}`);
  };

  step('from the namespace only the server and coturn on the host are reachable', async () => {
    const elsewhere = createServer((socket) => socket.destroy());
    await new Promise((resolve) => elsewhere.listen(0, netns.hostIp, resolve));
    try {
      const serverPort = new URL(relay.server.url).port;
      assert.equal(await tcpFromInside(netns.prefix, netns.hostIp, serverPort), 'connected');
      assert.equal(await tcpFromInside(netns.prefix, netns.hostIp, elsewhere.address().port), 'blocked');
    } finally {
      await new Promise((resolve) => elsewhere.close(resolve));
    }
  });

  step('an agent in the namespace takes the code and the session runs through the coturn broker', async () => {
    Object.assign(session, await startBrokerSession(relay.server.url));
    const configPath = await configureAgent('inside', relay.server, netns.prefix);
    agent = startAgentCommand(['connect', session.code, '--accept', '--config', configPath], {
      prefix: netns.prefix,
      display: xvfb.display,
      env: { TETHER_FILES_DIR: path.join(workDir, 'incoming'), TETHER_BROWSE_ROOT: shared },
    });
    await until(
      // Its log names the relay; what it prints for the person names no address.
      () => agent.output.some((line) => line.includes('broker chosen') && line.includes(coturn.address)),
      'the agent to choose the coturn broker',
      { describe: () => agent.output.slice(-5) },
    );
    await page.waitForURL(SESSION_PATH, { timeout: 20_000 });
    await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor({ timeout: 20_000 });
    // The line says the real path: through coturn, the agent over UDP (the only way its firewall lets out).
    await showsText(page, 'connection-route', `Relayed through ${coturn.address}: you over UDP, the computer over UDP (no direct path was found)`);
    const { body } = await call(relay.server.url, 'GET', `/api/broker-sessions/${session.id}`, { token: relay.techToken });
    assert.equal(body.broker, coturn.address);

    const first = await until(async () => {
      const stats = await videoStats(page);
      return stats?.framesDecoded > 0 && stats;
    }, 'frames to decode', { describe: () => videoStats(page) });
    await until(
      async () => (await videoStats(page)).framesDecoded > first.framesDecoded,
      'more frames to decode',
      { describe: () => videoStats(page) },
    );
    const pair = await until(() => selectedPair(page), 'a selected candidate pair', { deadlineMs: 5_000 });
    if (process.env.TETHER_E2E_VERBOSE) console.error(`selected candidate pair: ${JSON.stringify(pair)}`);
    assert.ok(
      pair.local.type === 'relay' || pair.remote.type === 'relay',
      `the selected pair is not relayed: ${JSON.stringify(pair)}`,
    );
    // Every relayed address is coturn's.
    for (const end of [pair.local, pair.remote].filter((candidate) => candidate.type === 'relay')) {
      assert.ok(end.address.startsWith(`${netns.hostIp}:`), `relay candidate ${end.address} is not coturn's`);
    }
    await until(() => agent.output.some((line) => line.includes('Connected:')), 'the agent to report the session');
  });

  step('the used code again is refused as used, and nothing starts', async () => {
    const configPath = await configureAgent('host', relay.server);
    await refused(configPath, session.code, 'That connection code has already been used. Ask your technician for a new one.');
    const { body: brokers } = await call(relay.server.url, 'GET', '/api/brokers', { token: relay.adminToken });
    assert.deepEqual(brokers.map((broker) => [broker.id, broker.active_sessions]), [['coturn', 1]]);
    assert.ok(agent.running(), 'the running session ended');
    const before = (await videoStats(page)).framesDecoded;
    await until(async () => (await videoStats(page)).framesDecoded > before, 'the session to go on decoding');
  });

  step('a wrong code is refused as not valid, and nothing starts', async () => {
    const configPath = path.join(workDir, 'host.json');
    const wrong = session.code === '000 000 001' ? '000 000 002' : '000 000 001';
    await refused(configPath, wrong, 'That connection code is not valid. Check the digits with your technician and try again.');
    const { body: brokers } = await call(relay.server.url, 'GET', '/api/brokers', { token: relay.adminToken });
    assert.deepEqual(brokers.map((broker) => [broker.id, broker.active_sessions]), [['coturn', 1]]);
  });

  step('a download cut off by the network going away resumes by itself when it is back, whole', async () => {
    await page.getByTestId('files-browse').click();
    // Generous: on the new connection the agent's SCTP (webrtc-rs, its
    // retransmission timer backing off up to 60 s) sometimes stalls a while.
    const download = page.waitForEvent('download', { timeout: 180_000 });
    await page.locator('[data-testid="files-entry"][data-name="crash.dmp"]').getByTestId('files-download').click();
    const transfer = page.locator('[data-testid="transfer"][data-direction="from"][data-name="crash.dmp"]');
    await until(async () => Number(await transfer.getByTestId('transfer-progress').getAttribute('value')) > 0, 'the download to get going');
    const restore = await netns.cut('udp');
    try {
      await transfer.locator('xpath=self::*[@data-state="interrupted"]').waitFor({ timeout: 20_000 });
      assert.match(await transfer.getByTestId('transfer-text').textContent(), /^Interrupted at [\d.]+ MiB of 12\.0 MiB/);
      await showsText(page, 'connection-state', 'Reconnecting');
    } finally {
      await restore();
    }
    const saved = path.join(workDir, 'resumed.dmp');
    await (await download).saveAs(saved);
    assert.ok((await readFile(saved)).equals(dump), 'the resumed download is the whole file, once');
    await transfer.locator('xpath=self::*[@data-state="done"]').waitFor({ timeout: 20_000 });
    await showsText(page, 'connection-state', 'Connected');
    await until(async () => (await videoStats(page))?.framesDecoded > 0, 'frames on the new connection', { describe: () => videoStats(page) });
  });

  step('Ctrl+C in connect ends the relayed session on both sides as the person\'s choice', async () => {
    const pressed = Date.now();
    await agent.kill('SIGINT');
    await page.locator('[data-testid="connection-state"][data-state="ended"]').waitFor({ timeout: 20_000 });
    const took = Date.now() - pressed;
    if (process.env.TETHER_E2E_VERBOSE) console.error(`the technician's page ended ${took} ms after Ctrl+C`);
    await showsText(page, 'connection-state', /the person at the computer ended the session/);
    await until(
      () => agent.output.some((line) => line.includes('Session ended: the person at the computer ended the session')),
      'the agent to say the person ended it',
      { describe: () => agent.output.slice(-5) },
    );
  });

  step('a code past its lifetime shows expired in the window and the agent is told so', async () => {
    await setSessionPolicy(relay.server.url, relay.adminToken, { code_lifetime_secs: SHORT_LIFETIME_SECS });
    const { id, code } = await startBrokerSession(relay.server.url, { signedIn: true });
    await page.getByTestId('broker-status').filter({ hasText: 'expired' }).waitFor({ timeout: (SHORT_LIFETIME_SECS + 10) * 1000 });
    const { body } = await call(relay.server.url, 'GET', `/api/broker-sessions/${id}`, { token: relay.techToken });
    assert.equal(body.state.status, 'expired');
    assert.equal(body.lifetime_secs, SHORT_LIFETIME_SECS);
    await refused(path.join(workDir, 'host.json'), code, 'That connection code has expired. Ask your technician for a new one.');
    await showsText(page, 'broker-status', 'expired');
    await setSessionPolicy(relay.server.url, relay.adminToken, {});
  });
});
