// A live session survives the technician reloading the controller page:
// the reloaded page signs in again (refresh cookie), re-attaches to the same
// session within the server's grace period and offers from a new
// RTCPeerConnection; the agent (run with --unattended on Xvfb) sees a new
// DTLS fingerprint, replaces its peer and streams again. The re-attach is
// audited and the session does not end. A page that goes away for good
// (closed without "End session") ends the session once the grace period
// is over, with the reason recorded.

import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { startServer } from '../lib/server.mjs';
import { requireAgentBinary, runAgentCommand, startAgent } from '../lib/agent.mjs';
import { LOOPBACK_WEBRTC_ARGS, launchBrowser, watchPageErrors } from '../lib/browser.mjs';
import { stepRunner } from '../lib/steps.mjs';
import { showsText, signIn, shellOf } from '../lib/ui.mjs';
import { call, createEnrollmentToken, createUser, firstLogin } from '../lib/api.mjs';
import { startXvfb } from '../lib/xvfb.mjs';
import { startScene } from '../lib/scene.mjs';
import { instrumentWebRtc, videoStats } from '../lib/rtc.mjs';
import { until } from '../lib/wait.mjs';

const ADMIN_PASSWORD = 'admin-correct-horse-42';
const TECH = { username: 'rhea', displayName: 'Rhea Reloader', role: 'technician', password: 'rhea-one-time-pass-1' };
const TECH_PASSWORD = 'rhea-battery-staple-7';
const AUDITOR = { username: 'ada', displayName: 'Ada Auditor', role: 'auditor', password: 'ada-one-time-pass-1' };
const AUDITOR_PASSWORD = 'ada-ledger-lantern-5';
/** The server's reload grace for this suite, seconds: long enough for a reload, short enough to wait out. */
const GRACE_SECONDS = 6;
const DEADLINE_MS = 20_000;
const SESSION_PATH = /\/sessions\/([0-9a-f-]{36})$/;

describe('session reload', () => {
  let xvfb;
  let scene;
  let server;
  let browser;
  let page;
  let workDir;
  let agent = null;
  let auditorToken;
  let sessionId = null;
  let pageErrors = [];
  const host = hostname();
  const targetRow = () => page.locator(`[data-testid="target-row"][data-hostname=${JSON.stringify(host)}]`);

  /** Audit entries of `action` about this session. */
  async function auditOf(action) {
    const { body } = await call(server.url, 'GET', `/api/audit?action=${action}`, { token: auditorToken });
    return body.entries.filter((entry) => entry.target === sessionId);
  }

  /** Waits for the page's current peer connection to be connected and to decode frames. */
  async function decodesFrames(what) {
    await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor({ timeout: DEADLINE_MS });
    await until(
      async () => {
        const stats = await videoStats(page);
        return stats && stats.connectionState === 'connected' && stats.framesDecoded > 2 && stats;
      },
      what,
      { deadlineMs: DEADLINE_MS, everyMs: 200, describe: () => videoStats(page) },
    );
  }

  before(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'tether-e2e-reload-'));
    xvfb = await startXvfb({ width: 1280, height: 720 });
    scene = await startScene(xvfb.display);
    // startServer passes its environment on to the server.
    process.env.TETHER_SESSION_RELOAD_GRACE_SECS = String(GRACE_SECONDS);
    server = await startServer();
    assert.ok(server.adminPassword, `the server printed no one-time password:\n${server.output.join('\n')}`);
    const adminToken = await firstLogin(server.url, 'admin', server.adminPassword, ADMIN_PASSWORD);
    await createUser(server.url, adminToken, TECH);
    await firstLogin(server.url, TECH.username, TECH.password, TECH_PASSWORD);
    await createUser(server.url, adminToken, AUDITOR);
    auditorToken = await firstLogin(server.url, AUDITOR.username, AUDITOR.password, AUDITOR_PASSWORD);

    await requireAgentBinary();
    const token = await createEnrollmentToken(server.url, adminToken, 'E2E reload');
    const configPath = path.join(workDir, 'agent.json');
    const enrolled = await runAgentCommand(['enroll', '--server', server.url, '--token', token, '--config', configPath]);
    assert.equal(enrolled.code, 0, `enroll failed:\n${enrolled.stdout}${enrolled.stderr}`);
    agent = startAgent(configPath, { args: ['--unattended', '--webrtc-bind', '127.0.0.1:0'], display: xvfb.display });

    browser = await launchBrowser({ extraArgs: LOOPBACK_WEBRTC_ARGS });
    await instrumentWebRtc(browser.context);
    page = await browser.context.newPage();
    pageErrors = watchPageErrors(page);
  });

  after(async () => {
    await browser?.close();
    await agent?.kill('SIGKILL');
    await server?.stop();
    await scene?.stop();
    await xvfb?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  const step = stepRunner('session-reload', () => ({
    page,
    server,
    agent,
    others: { scene: scene?.output ?? [], Xvfb: xvfb?.output ?? [] },
    pageErrors,
  }));

  step('a technician opens a session and frames decode', async () => {
    await page.goto(server.url);
    await signIn(page, TECH.username, TECH_PASSWORD);
    await shellOf(page, 'technician');
    await showsText(page, 'page-title', 'Targets');
    await targetRow().locator('[data-testid="target-status"][data-status="online"]').waitFor({ timeout: DEADLINE_MS });
    await targetRow().getByTestId('target-connect').click();
    await page.waitForURL(SESSION_PATH);
    sessionId = page.url().match(SESSION_PATH)[1];
    await decodesFrames('frames on the first page');
  });

  step('reloading the page re-attaches to the same session and streams again', async () => {
    await page.reload();
    await showsText(page, 'page-title', 'Live session');
    assert.equal(page.url().match(SESSION_PATH)?.[1], sessionId, 'the reload left the session page');
    await decodesFrames('frames on the reloaded page (a new RTCPeerConnection)');
    // The agent saw a new DTLS fingerprint and answered from a fresh peer (its log says so).
    assert.ok(
      agent.output.some((line) => line.includes('replacing the peer')),
      'the agent did not replace its peer for the new connection',
    );
    const reattached = await until(async () => (await auditOf('session.reattach')).at(0), 'the session.reattach audit entry');
    assert.equal(reattached.actor, TECH.username);
    assert.deepEqual(await auditOf('session.end'), [], 'the reload ended the session');
  });

  step('a page that goes away for good ends the session after the grace period', async () => {
    const leftAt = Date.now();
    await page.close();
    const ended = await until(async () => (await auditOf('session.end')).at(0), 'the session.end audit entry', {
      deadlineMs: GRACE_SECONDS * 1_000 + DEADLINE_MS,
      everyMs: 200,
    });
    assert.ok(Date.now() - leftAt >= GRACE_SECONDS * 1_000 - 500, 'the session ended before the grace period was over');
    assert.equal(
      ended.details.reason,
      `the technician's controller disconnected and did not return within ${GRACE_SECONDS} s`,
    );
    page = await browser.context.newPage();
    pageErrors = watchPageErrors(page);
  });
});
