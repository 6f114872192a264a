// Broker sessions in the browser. The technician's connection-code window:
// Start broker session on Targets shows a grouped code, its link and a
// countdown that ticks down; Request New gives another code, Extend Timeout
// starts the timer over, a reload shows the status without the code (the
// server keeps only its hash), Cancel returns to Targets. The end user's
// agent page (/agent): without the agent's key it says so and calls no /api;
// served by a real `tether-agent ui` it shows an unconfigured agent, checks
// codes as they are typed, reports a wrong code with Try Again; and a real
// code entered there opens the session: the technician's window moves to
// the controller ("Connecting to" the broker), the page shows the
// technician, and End session ends it on both sides.

import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { startServer, webDir } from '../lib/server.mjs';
import { agentBinary, runAgentCommand } from '../lib/agent.mjs';
import { launchBrowser, watchPageErrors } from '../lib/browser.mjs';
import { stepRunner } from '../lib/steps.mjs';
import { visible, showsText, signIn, shellOf } from '../lib/ui.mjs';
import { call, createUser, firstLogin } from '../lib/api.mjs';
import { until } from '../lib/wait.mjs';
import { startXvfb } from '../lib/xvfb.mjs';

const ADMIN_PASSWORD = 'admin-correct-horse-42';
const TECH = { username: 'bree', displayName: 'Bree Broker', role: 'technician', password: 'bree-one-time-pass-1' };
const TECH_PASSWORD = 'bree-battery-staple-7';
const BROKER_PATH = /\/broker\/([^/?#]+)$/;
const CODE = /^\d{3} \d{3} \d{3}$/;
const SESSION_PATH = /\/sessions\/([^/?#]+)$/;

/** `m:ss` or `h:mm:ss` to seconds. */
function seconds(text) {
  return text.trim().split(':').reduce((total, part) => total * 60 + Number(part), 0);
}

/** Agents started by this file, to stop (by PID) at the end. */
const running = new Set();

/** Whether this build's agent has the `ui` command with `--ui-dir`. */
async function agentHasUi() {
  const { code, stdout } = await runAgentCommand(['ui', '--help']).catch(() => ({ code: 1, stdout: '' }));
  return code === 0 && stdout.includes('--ui-dir');
}

/**
 * Starts `tether-agent ui` serving this web build, without a browser of its
 * own, sharing `display` (a test's Xvfb) if given and otherwise none; resolves once it printed its page's address, to
 * `{ address, output, stop }`.
 */
async function startAgentUi(configPath, { display, deadlineMs = 20_000 } = {}) {
  const { DISPLAY, WAYLAND_DISPLAY, ...env } = process.env;
  const args = ['ui', '--config', configPath, '--ui-dir', webDir(), '--no-open', ...(display ? ['--display', display] : [])];
  const child = spawn(agentBinary(), args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...env, TETHER_LOG: process.env.TETHER_LOG ?? 'info' },
  });
  const output = [];
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    running.delete(stop);
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid, 'SIGTERM');
      await exited;
    }
  };
  running.add(stop);
  const address = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the agent printed no address:\n${output.join('\n')}`)), deadlineMs);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        output.push(line);
        if (process.env.TETHER_E2E_VERBOSE) console.error(`agent ui: ${line}`);
        const match = line.match(/(http:\/\/127\.0\.0\.1:\d+\/agent#key=[^\s]+)/);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    }
    child.once('exit', (code) => reject(new Error(`the agent exited (${code}):\n${output.join('\n')}`)));
  });
  return { address, output, stop };
}

describe('broker window', () => {
  let server;
  let browser;
  let page;
  let techToken;
  let brokerId = null;
  let pageErrors = [];
  let workDir;
  const text = async (testid) => (await page.getByTestId(testid).first().textContent()).trim();
  const countdown = async () => seconds(await text('broker-countdown'));

  before(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'tether-e2e-broker-'));
    server = await startServer();
    assert.ok(server.adminPassword, `the server printed no one-time password:\n${server.output.join('\n')}`);
    const adminToken = await firstLogin(server.url, 'admin', server.adminPassword, ADMIN_PASSWORD);
    await createUser(server.url, adminToken, TECH);
    techToken = await firstLogin(server.url, TECH.username, TECH.password, TECH_PASSWORD);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    pageErrors = watchPageErrors(page);
  });

  after(async () => {
    for (const stop of running) await stop();
    await browser?.close();
    await server?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  // The agent UI's output, shown with a failing step.
  const others = {};
  const step = stepRunner('broker-window', () => ({ page, server, others, pageErrors }));

  step('Start broker session shows the code, its link and a countdown that ticks down', async () => {
    await page.goto(server.url);
    await signIn(page, TECH.username, TECH_PASSWORD);
    await shellOf(page, 'technician');
    await showsText(page, 'page-title', 'Targets');
    await page.getByTestId('start-broker-session').click();
    await page.waitForURL(BROKER_PATH);
    brokerId = decodeURIComponent(page.url().match(BROKER_PATH)[1]);
    await showsText(page, 'page-title', 'Connection code');
    await visible(page, 'broker-code');
    const code = await text('broker-code');
    assert.match(code, CODE);
    const url = await page.getByTestId('broker-url').inputValue();
    assert.ok(url.endsWith(`/connect/${code.replaceAll(' ', '-')}`), `${url} is not the link of ${code}`);
    await showsText(page, 'broker-status', 'waiting for target');
    const first = await countdown();
    assert.ok(first > 60 && first <= 15 * 60, `countdown ${first} s`);
    await until(async () => (await countdown()) < first, 'the countdown to tick down', { deadlineMs: 5_000 });
    // The server agrees with the page.
    const { status, body } = await call(server.url, 'GET', `/api/broker-sessions/${brokerId}`, { token: techToken });
    assert.equal(status, 200);
    assert.equal(body.state.status, 'waiting');
    assert.equal(body.code, undefined, 'a status answer must not carry the code');
  });

  step('Request New replaces the code and restarts the timer', async () => {
    const before = await text('broker-code');
    const full = await until(async () => {
      const left = await countdown();
      return left < 15 * 60 - 1 && left;
    }, 'the countdown to drop below the lifetime', { deadlineMs: 5_000 });
    await page.getByTestId('broker-renew').click();
    await until(async () => (await text('broker-code')) !== before, 'a new code');
    assert.match(await text('broker-code'), CODE);
    assert.ok((await countdown()) > full, 'the timer did not restart with the new code');
    await showsText(page, 'broker-status', 'waiting for target');
  });

  step('Extend Timeout starts the timer over', async () => {
    const code = await text('broker-code');
    const left = await until(async () => {
      const value = await countdown();
      return value < 15 * 60 - 2 && value;
    }, 'the countdown to drop two seconds', { deadlineMs: 6_000 });
    await page.getByTestId('broker-extend').click();
    await until(async () => (await countdown()) > left, 'the timer to start over');
    assert.equal(await text('broker-code'), code, 'Extend must keep the code');
  });

  step('after a reload the status shows without the code, which only Request New brings back', async () => {
    await page.reload();
    await showsText(page, 'page-title', 'Connection code');
    await visible(page, 'broker-code-hidden');
    await showsText(page, 'broker-status', 'waiting for target');
    await visible(page, 'broker-countdown');
    assert.equal(await page.getByTestId('broker-code').count(), 0);
  });

  step('Cancel closes the window and the code stops working', async () => {
    await page.getByTestId('broker-cancel').click();
    await page.waitForURL(/\/targets$/);
    await showsText(page, 'page-title', 'Targets');
    const { body } = await call(server.url, 'GET', `/api/broker-sessions/${brokerId}`, { token: techToken });
    assert.equal(body.state.status, 'cancelled');
  });

  step('the agent page without its key says so and never calls the server API', async () => {
    const agentPage = await browser.context.newPage();
    const errors = watchPageErrors(agentPage);
    const apiCalls = [];
    agentPage.on('request', (request) => {
      if (new URL(request.url()).pathname.startsWith('/api/')) apiCalls.push(request.url());
    });
    await agentPage.goto(`${server.url}/agent`);
    await visible(agentPage, 'agent-no-key');
    assert.equal(await agentPage.getByTestId('login-form').count(), 0, 'the agent page must not show the login');
    assert.deepEqual(apiCalls, []);
    assert.deepEqual(errors, []);
    await agentPage.close();
  });

  step('served by tether-agent ui, the page shows an agent that is not configured', async (t) => {
    if (!(await agentHasUi())) {
      t.skip('tether-agent has no `ui --ui-dir` command in this build');
      return;
    }
    const ui = await startAgentUi(path.join(workDir, 'unconfigured.json'));
    const agentPage = await browser.context.newPage();
    const errors = watchPageErrors(agentPage);
    await agentPage.goto(ui.address);
    await visible(agentPage, 'agent-not-configured');
    assert.ok(!agentPage.url().includes('key='), 'the key must leave the address bar');
    assert.equal(await agentPage.getByTestId('agent-code').count(), 0, 'no code entry without a server');
    assert.deepEqual(errors, []);
    await agentPage.close();
    await ui.stop();
  });

  step('configured, the agent page checks the code as it is typed and reports a wrong one', async (t) => {
    if (!(await agentHasUi())) {
      t.skip('tether-agent has no `ui --ui-dir` command in this build');
      return;
    }
    const configPath = path.join(workDir, 'configured.json');
    const configured = await runAgentCommand(['configure', '--server', server.url, '--config', configPath]);
    assert.equal(configured.code, 0, `configure failed:\n${configured.stdout}${configured.stderr}`);
    const ui = await startAgentUi(configPath);
    const agentPage = await browser.context.newPage();
    const errors = watchPageErrors(agentPage);
    await agentPage.goto(ui.address);
    await visible(agentPage, 'agent-code-form');
    await showsText(agentPage, 'agent-server', server.url.replace(/\/$/, ''));
    const connect = agentPage.getByTestId('agent-connect');
    assert.ok(await connect.isDisabled(), 'Connect is enabled with nothing typed');

    await agentPage.getByTestId('agent-code').fill('12a 456 789');
    await showsText(agentPage, 'agent-code-error', /'a' \(character 3\) is not a digit/);
    assert.ok(await connect.isDisabled(), 'Connect is enabled for a malformed code');
    await agentPage.getByTestId('agent-code').fill('123 45');
    await showsText(agentPage, 'agent-code-error', 'A connection code has 9 digits; this has 5.');
    await agentPage.getByTestId('agent-code').fill(`${server.url}/connect/123-456-789`);
    await showsText(agentPage, 'agent-code-ok', '123 456 789');
    assert.equal(await agentPage.getByTestId('agent-code-error').count(), 0);

    // A well-formed code that no technician issued: the server says so.
    await agentPage.getByTestId('agent-code').fill('000 000 001');
    await connect.click();
    await agentPage.locator('[data-testid="agent-failed"][data-error="wrong_code"]').waitFor();
    await agentPage.getByTestId('agent-retry').click();
    await visible(agentPage, 'agent-code-form');
    assert.deepEqual(errors, []);
    await agentPage.close();
    await ui.stop();
  });

  step('a code entered in the agent page opens the session on both sides, through the broker', async (t) => {
    if (!(await agentHasUi())) {
      t.skip('tether-agent has no `ui --ui-dir` command in this build');
      return;
    }
    await page.goto(`${server.url}/targets`);
    await page.getByTestId('start-broker-session').click();
    await page.waitForURL(BROKER_PATH);
    const id = decodeURIComponent(page.url().match(BROKER_PATH)[1]);
    const code = await text('broker-code');

    const xvfb = await startXvfb({ width: 640, height: 480 });
    running.add(xvfb.stop);
    const ui = await startAgentUi(path.join(workDir, 'configured.json'), { display: xvfb.display });
    others['agent ui'] = ui.output;
    const agentPage = await browser.context.newPage();
    const errors = watchPageErrors(agentPage);
    await agentPage.goto(ui.address);
    await agentPage.getByTestId('agent-code').fill(code);
    await agentPage.getByTestId('agent-connect').click();

    // The technician's window follows the server and opens the controller.
    await page.waitForURL(SESSION_PATH, { timeout: 20_000 });
    await showsText(page, 'page-title', 'Live session');
    const { body } = await call(server.url, 'GET', `/api/broker-sessions/${id}`, { token: techToken });
    assert.equal(page.url().match(SESSION_PATH)[1], body.session_id);
    assert.ok(body.broker, 'the server named no broker for the session');
    await showsText(page, 'connection-route', `Connecting to: ${body.broker}`);

    await showsText(agentPage, 'agent-technician', TECH.displayName).catch(async (error) => {
      error.message += `\nagent page: ${await agentPage.getByTestId('agent-ui').innerText()}`;
      throw error;
    });
    await agentPage.getByTestId('agent-end').click();
    await visible(agentPage, 'agent-code-form');
    await page.locator('[data-testid="connection-state"][data-state="ended"]').waitFor({ timeout: 20_000 });
    assert.deepEqual(errors, []);
    await agentPage.close();
    await ui.stop();
    running.delete(xvfb.stop);
    await xvfb.stop();
  });
});
