// Broker sessions in the browser. The technician's connection-code window:
// Start broker session on Targets shows a grouped code, its link and a
// countdown that ticks down; its link opens a page for the person (the
// code, the command, no sign-in, shell or /api; a bad code says only so);
// Request New gives another code, Extend Timeout
// starts the timer over, a reload shows the status without the code (the
// server keeps only its hash), Cancel returns to Targets. The end user's
// agent page (/agent): without the agent's key it says so and calls no /api;
// served by a real `tether-agent ui` it shows an unconfigured agent, checks
// codes as they are typed, reports a wrong code with Try Again; a real code
// entered there asks the user first (the default policy) while the
// technician's controller says it waits for them: Reject ends it on both
// sides with nothing shown; the question names the mode asked for and what
// it allows, and **Allow only Monitor** starts the session in Monitor: the
// controller says so, frames decode, no click, key or raw input reaches the
// X display, and the auditor reads the choice and the refused input
// channel in the session's timeline; Accept opens the session ("Connecting to" the
// broker), the page shows the technician, and End session ends it on both
// sides; with acceptance off by policy the session starts unasked, and the
// page says how it ended when the technician ends it.

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
import { call, createUser, firstLogin, setSessionPolicy } from '../lib/api.mjs';
import { until } from '../lib/wait.mjs';
import { startXvfb } from '../lib/xvfb.mjs';
import { startScene } from '../lib/scene.mjs';
import { instrumentWebRtc, pagePointOf, sendRaw, videoStats } from '../lib/rtc.mjs';

const ADMIN_PASSWORD = 'admin-correct-horse-42';
const TECH = { username: 'bree', displayName: 'Bree Broker', role: 'technician', password: 'bree-one-time-pass-1' };
const TECH_PASSWORD = 'bree-battery-staple-7';
const AUDITOR = { username: 'audrey', displayName: 'Audrey Auditor', role: 'auditor', password: 'audrey-one-time-pass-1' };
const AUDITOR_PASSWORD = 'audrey-battery-staple-7';
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
  let adminToken;
  let auditorToken;
  let brokerId = null;
  let pageErrors = [];
  let workDir;
  const text = async (testid) => (await page.getByTestId(testid).first().textContent()).trim();
  const countdown = async () => seconds(await text('broker-countdown'));

  before(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'tether-e2e-broker-'));
    server = await startServer();
    assert.ok(server.adminPassword, `the server printed no one-time password:\n${server.output.join('\n')}`);
    adminToken = await firstLogin(server.url, 'admin', server.adminPassword, ADMIN_PASSWORD);
    await createUser(server.url, adminToken, TECH);
    techToken = await firstLogin(server.url, TECH.username, TECH.password, TECH_PASSWORD);
    await createUser(server.url, adminToken, AUDITOR);
    auditorToken = await firstLogin(server.url, AUDITOR.username, AUDITOR.password, AUDITOR_PASSWORD);
    browser = await launchBrowser();
    await instrumentWebRtc(browser.context);
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

  step('the connection link opens a page for the person: the code, the command, no sign-in, shell or /api', async () => {
    const code = await text('broker-code');
    const url = await page.getByTestId('broker-url').inputValue();
    // Opened in the technician's own (signed-in) browser, it still is the person's page.
    const linkPage = await browser.context.newPage();
    const errors = watchPageErrors(linkPage);
    const apiCalls = [];
    linkPage.on('request', (request) => {
      if (new URL(request.url()).pathname.startsWith('/api/')) apiCalls.push(request.url());
    });
    await linkPage.goto(url);
    await visible(linkPage, 'connect-page');
    await showsText(linkPage, 'connect-code', code);
    assert.equal(await linkPage.getByTestId('connect-command').inputValue(), `tether-agent connect "${code}"`);
    await visible(linkPage, 'connect-command-copy');
    const words = await linkPage.getByTestId('connect-page').innerText();
    for (const promise of [/accept/, /allow less/, /end the session at any time/, /expires after a few minutes/, /one session only/]) {
      assert.match(words, promise);
    }
    assert.doesNotMatch(words, /https?:\/\/|\d+\.\d+\.\d+\.\d+/, 'an address on the page');
    assert.equal(await linkPage.getByTestId('shell').count(), 0, "the link must not show the technicians' shell");
    assert.equal(await linkPage.getByTestId('login-form').count(), 0, 'the link must not ask to sign in');

    // A link without a valid code says only that.
    await linkPage.goto(`${server.url}/connect/12345`);
    await showsText(linkPage, 'connect-invalid', 'This link does not contain a valid connection code. Ask your technician for a new one.');
    assert.equal(await linkPage.getByTestId('connect-code').count(), 0);
    assert.equal(await linkPage.getByTestId('connect-command').count(), 0);
    assert.deepEqual(apiCalls, []);
    assert.deepEqual(errors, []);
    await linkPage.close();
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

  /** Starts a broker session in the technician's window; resolves to `{ id, code }`. */
  async function startBrokerSession() {
    await page.goto(`${server.url}/targets`);
    await page.getByTestId('start-broker-session').click();
    await page.waitForURL(BROKER_PATH);
    return { id: decodeURIComponent(page.url().match(BROKER_PATH)[1]), code: await text('broker-code') };
  }

  /** The code's status as the server has it. */
  async function codeStatus(id) {
    const { body } = await call(server.url, 'GET', `/api/broker-sessions/${id}`, { token: techToken });
    return body.state.status;
  }

  /** The agent page's text, for a failing wait's message. */
  const explain = (agentPage) => async (error) => {
    error.message += `\nagent page: ${await agentPage.getByTestId('agent-ui').innerText()}`;
    throw error;
  };

  let agentUi = null;
  let agentPage = null;
  let agentErrors = [];

  step('the user is asked before anything is shown, and a rejection starts nothing', async (t) => {
    if (!(await agentHasUi())) {
      t.skip('tether-agent has no `ui --ui-dir` command in this build');
      return;
    }
    const { id, code } = await startBrokerSession();
    // The size of the known scene, whose input window a later step clicks.
    const xvfb = await startXvfb({ width: 1280, height: 720 });
    running.add(xvfb.stop);
    agentUi = await startAgentUi(path.join(workDir, 'configured.json'), { display: xvfb.display });
    others['agent ui'] = agentUi.output;
    agentPage = await browser.context.newPage();
    agentErrors = watchPageErrors(agentPage);
    await agentPage.goto(agentUi.address);
    await agentPage.getByTestId('agent-code').fill(code);
    await agentPage.getByTestId('agent-connect').click();

    // The agent asks its user (the default policy); the window has moved to
    // the controller, which says what it waits for.
    await showsText(agentPage, 'agent-asking-technician', TECH.displayName).catch(explain(agentPage));
    await showsText(agentPage, 'agent-seconds-left', /^Answer within \d:\d\d; no answer rejects it\.$/);
    await until(async () => (await agentPage.title()).startsWith('Accept this session?'), 'the tab title to ask');
    await page.waitForURL(SESSION_PATH, { timeout: 20_000 });
    await page.locator('[data-testid="connection-state"][data-state="awaiting_user"]').waitFor({ timeout: 20_000 });
    await showsText(page, 'screen-message', /Waiting for the person at the computer to accept \(up to 2:00\)/);
    assert.equal(await codeStatus(id), 'awaiting_acceptance');

    await agentPage.getByTestId('agent-reject').click();
    await showsText(agentPage, 'agent-last-session', 'Session ended: You rejected the session.');
    await visible(agentPage, 'agent-code-form');
    await page.locator('[data-testid="connection-state"][data-state="ended"]').waitFor({ timeout: 20_000 });
    await showsText(page, 'ended-reason', 'The user at the target rejected the session.');
    await until(async () => (await codeStatus(id)) === 'rejected', 'the code to be rejected');
    others.xvfb = xvfb;
  });

  step('the person picks Monitor instead of Active: frames arrive, no input reaches X, the auditor reads the choice', async (t) => {
    if (!agentUi) {
      t.skip('tether-agent has no `ui --ui-dir` command in this build');
      return;
    }
    const scene = await startScene(others.xvfb.display);
    running.add(scene.stop);
    others.scene = scene.output;
    const { code } = await startBrokerSession();
    await agentPage.getByTestId('agent-code').fill(code);
    await agentPage.getByTestId('agent-connect').click();
    // The question names the mode asked for, what it allows, and the narrower choices.
    await showsText(agentPage, 'agent-asked-mode', 'Active').catch(explain(agentPage));
    await showsText(agentPage, 'agent-asked-access', /Use your mouse and keyboard\./);
    assert.doesNotMatch(await agentPage.getByTestId('agent-awaiting').innerText(), /\d+\.\d+\.\d+\.\d+/, 'an address on the question');
    await page.waitForURL(SESSION_PATH, { timeout: 20_000 });
    await agentPage.getByTestId('agent-choose-monitor').click();

    await showsText(agentPage, 'agent-being-accessed', `This computer is being accessed by ${TECH.displayName}, in Monitor mode.`)
      .catch(explain(agentPage));
    await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor({ timeout: 20_000 });
    await showsText(page, 'session-mode', 'Monitor mode');
    await showsText(page, 'input-state', /^View only: the session is in Monitor mode/);
    const decoded = async () => (await videoStats(page))?.framesDecoded ?? 0;
    await until(async () => (await decoded()) >= 5, 'frames to decode in Monitor mode', { describe: () => videoStats(page) });

    // The auditor reads the person's choice, and the agent's refusal of the input channel.
    const sessionId = page.url().match(SESSION_PATH)[1];
    const timeline = async () =>
      (await call(server.url, 'GET', `/api/sessions/${sessionId}/timeline`, { token: auditorToken })).body.entries;
    const accepted = (await timeline()).find((entry) => entry.action === 'session.user_accepted');
    assert.equal(accepted?.details?.mode, 'monitor', JSON.stringify(accepted));
    await until(
      async () => (await timeline()).some((entry) => entry.action === 'session.refused' && entry.details?.what === 'channel'),
      'the refused input channel in the timeline',
    );
    await until(
      () => sendRaw(page, 'input', []).then(() => false, () => true),
      'the refused input channel to close on the page',
    );

    // Clicks and keys on the picture, and raw input, reach nothing.
    const from = scene.events.length;
    const input = scene.layout.input;
    const point = await pagePointOf(page, { x: input.x + 20, y: input.y + 20 });
    await page.mouse.click(point.x, point.y);
    await page.keyboard.type('monitor');
    await assert.rejects(sendRaw(page, 'input', ['{"t":"mouse_move","x":1,"y":1}']), /no open data channel labelled input/);
    const seen = await decoded();
    await until(async () => (await decoded()) >= seen + 10, 'ten more frames after the clicks', { describe: () => videoStats(page) });
    assert.deepEqual(scene.events.slice(from), [], 'input reached the X display in Monitor mode');

    // The technician asks for Active: the person is asked again on their page, over the running session.
    await page.getByTestId('mode-select').selectOption('active');
    await page.getByTestId('request-mode').click();
    await page.locator('[data-testid="mode-request"][data-state="asking"]').waitFor({ timeout: 20_000 });
    await agentPage.locator('[data-testid="agent-awaiting"][data-change="true"]').waitFor({ timeout: 20_000 });
    await showsText(agentPage, 'agent-asked-mode', 'Active');
    assert.match(await agentPage.getByTestId('agent-awaiting').innerText(), /asks to change the session from Monitor to/);
    await agentPage.getByTestId('agent-accept').click();
    await showsText(agentPage, 'agent-mode', /^Active/).catch(explain(agentPage));
    await showsText(page, 'session-mode', 'Active mode');
    await showsText(page, 'mode-request', 'The person at the computer set the session to Active mode.');
    // Control came back: the page opened a new input channel, and a click reaches X.
    await page.locator('[data-testid="input-state"][data-ready="true"]').waitFor({ timeout: 20_000 });
    const clicked = scene.events.length;
    const target = await pagePointOf(page, { x: input.x + 30, y: input.y + 30 });
    await page.mouse.click(target.x, target.y);
    await scene.waitFor((event) => event.event === 'button_press', 'a click after the person allowed Active', { from: clicked });

    // The person takes control away again from their page: at once, no question.
    await agentPage.getByTestId('agent-narrow-monitor').click();
    await showsText(page, 'session-mode', 'Monitor mode');
    await showsText(page, 'input-state', /^View only: the session is in Monitor mode/);
    await showsText(agentPage, 'agent-mode', /^Monitor/);
    const entries = await timeline();
    const changes = entries.filter((entry) => entry.action === 'session.mode_changed').map((entry) => entry.details);
    assert.deepEqual(changes, [
      { step: 'in_force', mode: 'active', by: 'person' },
      { step: 'in_force', mode: 'monitor', by: 'person' },
    ]);
    const actions = entries.map((entry) => entry.action);
    assert.ok(actions.indexOf('session.mode_requested') < actions.indexOf('session.mode_asked'), actions.join(', '));

    // Chat works in a code's session too: the person answers from the agent's page.
    await page.getByTestId('chat-input').fill('Can you open the printer dialog?');
    await page.getByTestId('chat-input').press('Enter');
    await agentPage.locator('[data-testid="chat-line"][data-from="technician"]').getByTestId('chat-text')
      .filter({ hasText: 'Can you open the printer dialog?' }).waitFor();
    await agentPage.getByTestId('chat-input').fill('Done, it is open.');
    await agentPage.getByTestId('chat-send').click();
    await page.locator('[data-testid="chat-line"][data-from="person"]').getByTestId('chat-text')
      .filter({ hasText: 'Done, it is open.' }).waitFor();

    await page.getByTestId('end-session').click();
    await visible(agentPage, 'agent-code-form');
    await scene.stop();
    running.delete(scene.stop);
  });

  step('a code accepted in the agent page opens the session on both sides, through the broker', async (t) => {
    if (!agentUi) {
      t.skip('tether-agent has no `ui --ui-dir` command in this build');
      return;
    }
    const { id, code } = await startBrokerSession();
    await agentPage.getByTestId('agent-code').fill(code);
    await agentPage.getByTestId('agent-connect').click();
    await visible(agentPage, 'agent-accept').catch(explain(agentPage));
    await page.waitForURL(SESSION_PATH, { timeout: 20_000 });
    await page.locator('[data-testid="connection-state"][data-state="awaiting_user"]').waitFor({ timeout: 20_000 });
    await agentPage.getByTestId('agent-accept').click();

    // The technician's window follows the server and opens the controller.
    await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor({ timeout: 20_000 });
    await showsText(page, 'page-title', 'Live session');
    const { body } = await call(server.url, 'GET', `/api/broker-sessions/${id}`, { token: techToken });
    assert.equal(page.url().match(SESSION_PATH)[1], body.session_id);
    assert.equal(body.state.status, 'active');
    assert.ok(body.broker, 'the server named no broker for the session');
    // Connected: the line says the path the media really takes (both ends on this machine: direct, or through the broker).
    await showsText(page, 'connection-route', new RegExp(`^(Direct on the local network|Relayed through ${body.broker.replaceAll('.', '\\.')}:)`));

    await showsText(agentPage, 'agent-technician', TECH.displayName).catch(explain(agentPage));
    await agentPage.getByTestId('agent-end').click();
    await visible(agentPage, 'agent-code-form');
    await page.locator('[data-testid="connection-state"][data-state="ended"]').waitFor({ timeout: 20_000 });
    assert.deepEqual(agentErrors, []);
    await agentPage.close();
    await agentUi.stop();
    running.delete(others.xvfb.stop);
    await others.xvfb.stop();
  });

  step('with acceptance off by policy the session starts without asking, and the page says how it ended', async (t) => {
    if (!agentUi) {
      t.skip('tether-agent has no `ui --ui-dir` command in this build');
      return;
    }
    await setSessionPolicy(server.url, adminToken, { user_acceptance: false });
    const { code } = await startBrokerSession();
    const xvfb = await startXvfb({ width: 640, height: 480 });
    running.add(xvfb.stop);
    const ui = await startAgentUi(path.join(workDir, 'configured.json'), { display: xvfb.display });
    others['agent ui'] = ui.output;
    const unasked = await browser.context.newPage();
    await unasked.goto(ui.address);
    await unasked.getByTestId('agent-code').fill(code);
    await unasked.getByTestId('agent-connect').click();
    await showsText(unasked, 'agent-technician', TECH.displayName).catch(explain(unasked));
    await page.waitForURL(SESSION_PATH, { timeout: 20_000 });
    await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor({ timeout: 20_000 });
    // The technician ends it; the user's page says so.
    await page.getByTestId('end-session').click();
    await showsText(unasked, 'agent-last-session', /^Session ended: /);
    await visible(unasked, 'agent-code-form');
    await unasked.close();
    await ui.stop();
    running.delete(xvfb.stop);
    await xvfb.stop();
    await setSessionPolicy(server.url, adminToken, {});
  });
});
