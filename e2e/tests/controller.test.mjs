// The technician's live controller and the enrolled agent's consent:
// Connect on an online target opens the controller page, the agent (run
// without --unattended and without its page: nobody to ask) declines, and
// the page shows the session ended with the agent's reason; the agent run
// with its page (`run --ui-dir`) asks the person there, who accepts — the
// page then says who is accessing the computer, the technician's page the
// mode, and the auditor reads the question and the answer; they chat both
// ways and the auditor reads the conversation; the technician sends text
// to the computer's clipboard and takes what another program put there,
// and reads its system information once the person allowed it; sends a
// file the person allows, is refused a device name, and downloads a file
// from the shared folder (each use audited); the person takes control
// away (Monitor) and then ends it from their page; a target that
// went offline meanwhile gives an error on the Targets page; the
// signalling socket refuses a bad token.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, webDir } from '../lib/server.mjs';
import { startXvfb } from '../lib/xvfb.mjs';
import { requireAgentBinary, runAgentCommand, startAgent } from '../lib/agent.mjs';
import { LOOPBACK_WEBRTC_ARGS, launchBrowser, watchPageErrors } from '../lib/browser.mjs';
import { stepRunner } from '../lib/steps.mjs';
import { visible, showsText, signIn, shellOf } from '../lib/ui.mjs';
import { PROTOCOL_VERSION, call, createEnrollmentToken, createUser, firstLogin, login } from '../lib/api.mjs';

const ADMIN_PASSWORD = 'admin-correct-horse-42';
const TECH = { username: 'connie', displayName: 'Connie Controller', role: 'technician', password: 'connie-one-time-pass-1' };
const TECH_PASSWORD = 'connie-battery-staple-7';
const AUDITOR = { username: 'otto', displayName: 'Otto Auditor', role: 'auditor', password: 'otto-one-time-pass-1' };
const AUDITOR_PASSWORD = 'otto-ledger-lantern-5';
/** How long the server and the page's 3 s refresh may take to show a change. */
const STATUS_DEADLINE_MS = 20_000;
/** Session ids are UUIDs. */
const SESSION_PATH = /\/sessions\/([0-9a-f-]{36})$/;

/** Polls `check` (every 50 ms) until it returns a truthy value; rejects after `deadlineMs`. */
async function until(check, what, deadlineMs = STATUS_DEADLINE_MS) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Opens the signalling WebSocket from the browser, sends `messages`, and
 * resolves to `{ received, closed }` once the server closes it (or after
 * `deadlineMs`, with `closed: false`).
 */
function signalExchange(page, url, messages, deadlineMs = 10_000) {
  return page.evaluate(
    ({ url, messages, deadlineMs }) =>
      new Promise((resolve) => {
        const received = [];
        const socket = new WebSocket(url);
        const timer = setTimeout(() => {
          socket.close();
          resolve({ received, closed: false });
        }, deadlineMs);
        socket.onopen = () => messages.forEach((message) => socket.send(JSON.stringify(message)));
        socket.onmessage = (event) => received.push(JSON.parse(event.data));
        socket.onclose = () => {
          clearTimeout(timer);
          resolve({ received, closed: true });
        };
      }),
    { url, messages, deadlineMs },
  );
}

describe('controller', () => {
  let server;
  let browser;
  let page;
  let workDir;
  let agent = null;
  let xvfb = null;
  let techToken;
  let auditorToken;
  let sessionId = null;
  let pageErrors = [];
  const host = hostname();
  const targetRow = () => page.locator(`[data-testid="target-row"][data-hostname=${JSON.stringify(host)}]`);
  const signalUrl = (id) => `${server.url.replace(/^http/, 'ws')}/api/sessions/${id}/signal`;

  before(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'tether-e2e-controller-'));
    server = await startServer();
    assert.ok(server.adminPassword, `the server printed no one-time password:\n${server.output.join('\n')}`);
    const adminToken = await firstLogin(server.url, 'admin', server.adminPassword, ADMIN_PASSWORD);
    await createUser(server.url, adminToken, TECH);
    techToken = await firstLogin(server.url, TECH.username, TECH.password, TECH_PASSWORD);
    await createUser(server.url, adminToken, AUDITOR);
    auditorToken = await firstLogin(server.url, AUDITOR.username, AUDITOR.password, AUDITOR_PASSWORD);

    await requireAgentBinary();
    const token = await createEnrollmentToken(server.url, adminToken, 'E2E controller');
    const configPath = path.join(workDir, 'agent.json');
    const enrolled = await runAgentCommand(['enroll', '--server', server.url, '--token', token, '--config', configPath]);
    assert.equal(enrolled.code, 0, `enroll failed:\n${enrolled.stdout}${enrolled.stderr}`);
    // Without --unattended the agent declines every session with a bye.
    agent = startAgent(configPath);

    browser = await launchBrowser({ extraArgs: LOOPBACK_WEBRTC_ARGS });
    page = await browser.context.newPage();
    pageErrors = watchPageErrors(page);
  });

  after(async () => {
    await agent?.kill('SIGKILL');
    await xvfb?.stop();
    await browser?.close();
    await server?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  const step = stepRunner('controller', () => ({ page, server, agent, pageErrors }));

  step('a technician connects and the agent declines: the page shows why the session ended', async () => {
    await page.goto(server.url);
    await signIn(page, TECH.username, TECH_PASSWORD);
    await shellOf(page, 'technician');
    await showsText(page, 'page-title', 'Targets');
    await targetRow().locator('[data-testid="target-status"][data-status="online"]')
      .waitFor({ timeout: STATUS_DEADLINE_MS });
    const connect = targetRow().getByTestId('target-connect');
    assert.ok(await connect.isEnabled(), 'Connect is disabled for an online target');

    await connect.click();
    await page.waitForURL(SESSION_PATH);
    sessionId = page.url().match(SESSION_PATH)[1];
    await showsText(page, 'page-title', 'Live session');
    await visible(page, 'remote-video');

    const state = page.locator('[data-testid="connection-state"][data-state="ended"]');
    await state.waitFor({ timeout: STATUS_DEADLINE_MS });
    const line = (await state.textContent()).trim();
    // The reason the server recorded when the agent said bye.
    const ended = await until(async () => {
      const { body } = await call(server.url, 'GET', '/api/audit?action=session.end', { token: auditorToken });
      return body.entries.find((entry) => entry.target === sessionId);
    }, 'the session.end audit entry');
    assert.match(ended.actor, /^agent:/, `the session was ended by ${ended.actor}, not by the agent`);
    assert.equal(
      line,
      `Ended: ${ended.details.reason}`,
      'a controller that connects after the agent declined must hear the recorded reason from the server',
    );
    assert.match(ended.details.reason, /accept|stream|declin/, 'not the reason of a declining agent');

    // The picture area says so too, with the way back; nothing is left to end.
    await page.locator('[data-testid="screen-message"][data-kind="ended"]').waitFor();
    assert.equal(await page.getByTestId('end-session').count(), 0);
    assert.ok(await page.getByTestId('send-cad').isDisabled());
    await page.getByTestId('back-to-targets').click();
    await showsText(page, 'page-title', 'Targets');
  });

  step('the controller page refuses a session that is over', async () => {
    // The session's route is gone; reopening it says so instead of hanging.
    await page.goto(`${server.url}/sessions/${sessionId}`);
    await shellOf(page, 'technician');
    await page.locator('[data-testid="connection-state"][data-state="ended"]').waitFor({ timeout: STATUS_DEADLINE_MS });
    await showsText(page, 'connection-state', /^Ended: /);
    await page.getByTestId('back-to-targets').click();
    await showsText(page, 'page-title', 'Targets');
  });

  step('with its page the agent asks the person, who accepts: both pages say who and how, the auditor reads it', async () => {
    await agent.kill('SIGKILL');
    xvfb = await startXvfb({ width: 640, height: 480 });
    const [incoming, shared] = [path.join(workDir, 'incoming'), path.join(workDir, 'shared')];
    await mkdir(path.join(shared, 'Projects'), { recursive: true });
    const notes = Buffer.alloc(3 * 1024 * 1024 + 5, 'printer queue log line\n');
    await writeFile(path.join(shared, 'notes.log'), notes);
    agent = startAgent(path.join(workDir, 'agent.json'), {
      args: ['--ui-dir', webDir(), '--no-open', '--webrtc-bind', '127.0.0.1:0'],
      display: xvfb.display,
      env: { TETHER_FILES_DIR: incoming, TETHER_BROWSE_ROOT: shared },
    });
    const pageAddress = /(http:\/\/127\.0\.0\.1:\d+\/agent#key=\S+)/;
    const address = await until(
      () => agent.output.map((line) => line.match(pageAddress)?.[1]).find(Boolean),
      "the agent's page address",
    );
    const agentPage = await browser.context.newPage();
    const agentErrors = watchPageErrors(agentPage);
    await agentPage.goto(address);
    await visible(agentPage, 'agent-code-form');

    await page.goto(`${server.url}/targets`);
    await targetRow().locator('[data-testid="target-status"][data-status="online"]')
      .waitFor({ timeout: STATUS_DEADLINE_MS });
    await targetRow().getByTestId('target-connect').click();
    await page.waitForURL(SESSION_PATH);
    const id = page.url().match(SESSION_PATH)[1];
    await page.locator('[data-testid="connection-state"][data-state="awaiting_user"]')
      .waitFor({ timeout: STATUS_DEADLINE_MS });
    await showsText(page, 'screen-message', /Waiting for the person at the computer to accept/);

    await showsText(agentPage, 'agent-asking-technician', TECH.displayName);
    await showsText(agentPage, 'agent-asked-mode', 'Active');
    await agentPage.getByTestId('agent-accept').click();
    const accessed = `This computer is being accessed by ${TECH.displayName}, in Active mode.`;
    await showsText(agentPage, 'agent-being-accessed', accessed);
    await until(() => agent.output.some((line) => line.includes(accessed)), 'the agent to say so on its terminal');
    await page.locator('[data-testid="connection-state"][data-state="connected"]')
      .waitFor({ timeout: STATUS_DEADLINE_MS });
    await showsText(page, 'session-mode', 'Active mode');
    // The person's page says what is in use right now, as the bar does.
    await showsText(agentPage, 'agent-in-use', /viewing/);

    const { body } = await call(server.url, 'GET', `/api/sessions/${id}/timeline`, { token: auditorToken });
    const actions = body.entries.map((entry) => entry.action);
    assert.ok(actions.includes('session.user_asked'), actions.join(', '));
    assert.ok(actions.indexOf('session.user_asked') < actions.indexOf('session.user_accepted'), actions.join(', '));
    const accepted = body.entries.find((entry) => entry.action === 'session.user_accepted');
    assert.equal(accepted.details.mode, 'active');

    // Chat both ways: each side sees both lines with the name, the auditor reads the conversation.
    await page.getByTestId('chat-input').fill('Hello, I am looking at your printer settings.');
    await page.getByTestId('chat-send').click();
    const agentLine = agentPage.locator('[data-testid="chat-line"][data-from="technician"]');
    await agentLine.getByTestId('chat-text').filter({ hasText: 'Hello, I am looking at your printer settings.' }).waitFor();
    assert.equal(await agentLine.getByTestId('chat-name').textContent(), TECH.displayName);
    // Folded, the technician's panel counts the person's new lines.
    await page.getByTestId('chat-toggle').click();
    await agentPage.getByTestId('chat-input').fill('Thanks! It is the one on the left.');
    await agentPage.getByTestId('chat-input').press('Enter');
    await page.locator('[data-testid="chat-unread"][data-count="1"]').waitFor();
    await page.getByTestId('chat-toggle').click();
    assert.equal(await page.getByTestId('chat-unread').count(), 0, 'read once open');
    const techLine = page.locator('[data-testid="chat-line"][data-from="person"]');
    await techLine.getByTestId('chat-text').filter({ hasText: 'Thanks! It is the one on the left.' }).waitFor();
    assert.equal(await page.getByTestId('chat-input').inputValue(), '', 'the sent line left the box');
    const transcript = (await call(server.url, 'GET', `/api/sessions/${id}/timeline`, { token: auditorToken })).body.entries
      .filter((entry) => entry.action === 'session.chat')
      .map((entry) => [entry.details.from, entry.details.text]);
    assert.deepEqual(transcript, [
      ['technician', 'Hello, I am looking at your printer settings.'],
      ['person', 'Thanks! It is the one on the left.'],
    ]);

    // The clipboard both ways: the technician's text lands on the X display's clipboard, and
    // what another program put there comes back (the default policy does not ask for it).
    await page.getByTestId('clipboard-text').fill('ssh printer-7 — from Connie');
    await page.getByTestId('clipboard-send').click();
    await showsText(page, 'clipboard-status', 'Sent 27 characters to the computer\'s clipboard.');
    const display = { ...process.env, DISPLAY: xvfb.display };
    assert.equal(execFileSync('xclip', ['-o', '-selection', 'clipboard'], { env: display, encoding: 'utf8' }),
      'ssh printer-7 — from Connie');
    // xclip keeps serving the selection in the background until the display stops.
    execFileSync('xclip', ['-i', '-selection', 'clipboard'], { env: display, input: 'error 0x42 in spooler', stdio: ['pipe', 'ignore', 'ignore'] });
    await page.getByTestId('clipboard-get').click();
    await showsText(page, 'clipboard-status', 'Received 21 characters from the computer\'s clipboard.');
    assert.equal(await page.getByTestId('clipboard-text').inputValue(), 'error 0x42 in spooler');

    // System information: the default policy wants the person to allow it first; they do, once.
    await page.getByTestId('system-refresh').click();
    await showsText(agentPage, 'agent-tool-question', `${TECH.displayName} asks to read your computer's system information.`);
    await agentPage.getByTestId('agent-accept').click();
    await showsText(page, 'system-status', 'Up to date.');
    await page.locator('[data-testid="system-network"][data-name="lo"]').waitFor();
    assert.ok((await page.getByTestId('system-os').textContent()).trim().length > 0);
    assert.ok(await page.locator('[data-testid="system-top-memory"] [data-testid="system-process"]').count() > 0);
    await page.getByTestId('system-refresh').click();
    await page.locator('[data-testid="system-panel"][data-status="done"]').waitFor();
    const used = (await call(server.url, 'GET', `/api/sessions/${id}/timeline`, { token: auditorToken })).body.entries
      .map((entry) => entry.action)
      .filter((action) => /^session\.(access_|clipboard_|system_info)/.test(action));
    assert.deepEqual(used, ['session.clipboard_set', 'session.clipboard_taken', 'session.access_asked',
      'session.access_allowed', 'session.system_info_read', 'session.system_info_read']);

    // Files: the person allows each incoming file (the default policy asks), it lands in their
    // folder checked by SHA-256; a device name is refused before anyone is asked; the technician
    // browses the shared folder and takes a file, which arrives as a normal browser download.
    const report = Buffer.from('%PDF-1.4 pretend report\n'.repeat(40_000));
    await page.getByTestId('files-upload-input').setInputFiles({ name: 'report.pdf', mimeType: 'application/pdf', buffer: report });
    await showsText(agentPage, 'agent-tool-question', /asks to send files to and take files from your computer\. They send report\.pdf \(.*\), to be saved in .*incoming as report\.pdf\./);
    await agentPage.getByTestId('agent-accept').click();
    const uploaded = page.locator('[data-testid="transfer"][data-direction="to"][data-name="report.pdf"]');
    await uploaded.locator('xpath=self::*[@data-state="done"]').waitFor({ timeout: STATUS_DEADLINE_MS });
    assert.match(await uploaded.getByTestId('transfer-text').textContent(), /Saved on the computer as report\.pdf; SHA-256 [0-9a-f]{12}… checked\./);
    assert.ok((await readFile(path.join(incoming, 'report.pdf'))).equals(report), 'the saved file is what was sent');
    await page.getByTestId('files-upload-input').setInputFiles({ name: 'CON.txt', mimeType: 'text/plain', buffer: Buffer.from('x') });
    const refused = page.locator('[data-testid="transfer"][data-name="CON.txt"][data-state="failed"]');
    await refused.waitFor({ timeout: STATUS_DEADLINE_MS });
    assert.match(await refused.getByTestId('transfer-text').textContent(), /reserved for a device/);
    assert.deepEqual((await readdir(incoming)).sort(), ['report.pdf'], 'nothing else was written');

    await page.getByTestId('files-browse').click();
    await page.locator('[data-testid="files-entry"][data-name="Projects"][data-folder="true"]').waitFor();
    const downloading = page.waitForEvent('download');
    await page.locator('[data-testid="files-entry"][data-name="notes.log"]').getByTestId('files-download').click();
    const download = await downloading;
    assert.equal(download.suggestedFilename(), 'notes.log');
    const saved = path.join(workDir, 'downloaded-notes.log');
    await download.saveAs(saved);
    assert.ok((await readFile(saved)).equals(notes), 'the download is the file on the computer');
    await page.locator('[data-testid="transfer"][data-direction="from"][data-state="done"]').waitFor();
    const transfers = (await call(server.url, 'GET', `/api/sessions/${id}/timeline`, { token: auditorToken })).body.entries
      .filter((entry) => entry.action === 'session.file_transfer')
      .map((entry) => [entry.details.direction, entry.details.name, entry.details.outcome]);
    assert.deepEqual(transfers, [
      ['to_computer', 'report.pdf', 'started'],
      ['to_computer', 'report.pdf', 'completed'],
      ['to_computer', 'CON.txt', 'failed'],
      ['from_computer', '~/notes.log', 'started'],
      ['from_computer', '~/notes.log', 'completed'],
    ]);

    // The person takes control away from their page: the technician's page hears it at once.
    await agentPage.getByTestId('agent-narrow-monitor').click();
    await showsText(page, 'session-mode', 'Monitor mode');
    await showsText(page, 'mode-request', 'The person at the computer set the session to Monitor mode.');
    await showsText(agentPage, 'agent-being-accessed', `This computer is being accessed by ${TECH.displayName}, in Monitor mode.`);
    await until(() => agent.output.some((line) => line.includes('The session is now in Monitor mode, as you chose')),
      'the agent to say so on its terminal');

    // The person ends it on their page: both sides end at once.
    await agentPage.getByTestId('agent-end').click();
    await showsText(agentPage, 'agent-last-session', 'Session ended: The person at the computer ended the session.');
    await page.locator('[data-testid="connection-state"][data-state="ended"]').waitFor({ timeout: STATUS_DEADLINE_MS });
    await showsText(page, 'connection-state', /the person at the computer ended the session/);
    await page.getByTestId('back-to-targets').click();
    await showsText(page, 'page-title', 'Targets');
    assert.deepEqual(agentErrors, []);
    await agentPage.close();
  });

  step('Connect on a target that went offline meanwhile shows the error', async () => {
    await targetRow().locator('[data-testid="target-status"][data-status="online"]')
      .waitFor({ timeout: STATUS_DEADLINE_MS });
    // Keep the list as it is now, so the row still offers Connect after the agent stops.
    const listed = await call(server.url, 'GET', '/api/targets', { token: techToken });
    await page.route('**/api/targets', (route) => route.fulfill({ json: listed.body }));
    await agent.kill('SIGKILL');
    agent = null;
    await until(async () => {
      const { body } = await call(server.url, 'GET', '/api/targets', { token: techToken });
      return body.every((target) => !target.online);
    }, 'the server to see the agent leave');

    await targetRow().getByTestId('target-connect').click();
    await showsText(page, 'connect-error', 'That computer is offline now, so no session can start.');
    assert.match(page.url(), /\/targets$/);
    await page.unroute('**/api/targets');
  });

  step('the signalling socket refuses a bad token and sessions that are not live', async () => {
    const id = sessionId ?? '00000000-0000-4000-8000-000000000000';
    const bad = await signalExchange(page, signalUrl(id), [{ type: 'auth', token: 'not-a-token', protocol: PROTOCOL_VERSION }]);
    assert.ok(bad.closed, 'the server kept a socket with a bad token open');
    assert.equal(bad.received.length, 1, JSON.stringify(bad.received));
    assert.equal(bad.received[0].type, 'error');

    const unauthenticated = await signalExchange(page, signalUrl(id), [
      { type: 'signal', signal: { kind: 'offer', sdp: 'v=0' } },
    ]);
    assert.ok(unauthenticated.closed);
    assert.deepEqual(unauthenticated.received, [{ type: 'error', message: 'expected auth first' }]);

    const fresh = await login(server.url, TECH.username, TECH_PASSWORD);
    const stale = await signalExchange(page, signalUrl(id), [{ type: 'auth', token: fresh }]);
    assert.ok(stale.closed, 'a page without a protocol version was kept');
    assert.match(stale.received[0]?.message ?? '', /^this page is out of date: reload it/);
    const over = await signalExchange(page, signalUrl(id), [{ type: 'auth', token: fresh, protocol: PROTOCOL_VERSION }]);
    assert.ok(over.closed);
    assert.deepEqual(over.received.map((message) => message.type), ['ended']);
  });
});
