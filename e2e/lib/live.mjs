// The set-up every live-session suite shares: Xvfb with the known scene, a
// server with a technician (and optionally an auditor) whose default policy
// allows unattended access, an enrolled agent streaming that display with
// --unattended, and Chromium allowed to make WebRTC connections on
// loopback, instrumented by rtc.mjs.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { startServer } from './server.mjs';
import { requireAgentBinary, runAgentCommand, startAgent } from './agent.mjs';
import { LOOPBACK_WEBRTC_ARGS, launchBrowser, watchPageErrors } from './browser.mjs';
import { showsText, signIn, shellOf } from './ui.mjs';
import { allowUnattended, createEnrollmentToken, createUser, firstLogin } from './api.mjs';
import { startXvfb } from './xvfb.mjs';
import { startScene } from './scene.mjs';
import { instrumentWebRtc } from './rtc.mjs';

export const ADMIN_PASSWORD = 'admin-correct-horse-42';
/** How long the server, the agent and the page's 3 s refresh may take. */
export const LIVE_DEADLINE_MS = 20_000;
/** Session pages are `/sessions/<uuid>`. */
export const SESSION_PATH = /\/sessions\/([0-9a-f-]{36})$/;

/**
 * Starts everything a live session needs. `tech` and `auditor` are
 * `{ username, displayName, role, password, newPassword }`; `serverEnv`
 * adds to the server's environment; `startX` starts the X server of
 * `width`×`height` (Xvfb unless given, as `fixture.xvfb`); with `netns`
 * (`lib/netns.mjs`) the server and its relay listen on the namespace's
 * host-side address and the agent runs inside, after `beforeAgent(fixture)`
 * (e.g. installs the namespace's firewall); `serverArgs` and `agentEnv` add
 * to the server's flags and the agent's environment. Resolves to a fixture with the parts,
 * `openSession()` (signs the technician in and opens the session from the
 * Targets page; resolves to its id), `diagnostics()` for the step runner and
 * `stop()`.
 */
export async function startLiveSession({
  name,
  tech,
  auditor,
  serverEnv = {},
  width = 1280,
  height = 720,
  startX = () => startXvfb({ width, height }),
  netns = null,
  beforeAgent = async () => {},
  serverArgs = [],
  agentEnv = {},
}) {
  const fixture = { pageErrors: [], agent: null, auditorToken: null };
  fixture.stop = async () => {
    await fixture.browser?.close();
    await fixture.agent?.kill('SIGKILL');
    await fixture.server?.stop();
    await fixture.scene?.stop();
    await fixture.xvfb?.stop();
    if (fixture.workDir) await rm(fixture.workDir, { recursive: true, force: true });
  };
  fixture.diagnostics = () => ({
    page: fixture.page,
    server: fixture.server,
    agent: fixture.agent,
    others: { scene: fixture.scene?.output ?? [], 'X server': fixture.xvfb?.output ?? [] },
    pageErrors: fixture.pageErrors,
  });
  fixture.targetRow = () =>
    fixture.page.locator(`[data-testid="target-row"][data-hostname=${JSON.stringify(hostname())}]`);
  fixture.openSession = async () => {
    const { page } = fixture;
    await page.goto(fixture.server.url);
    await signIn(page, tech.username, tech.newPassword);
    await shellOf(page, 'technician');
    await showsText(page, 'page-title', 'Targets');
    await fixture.targetRow()
      .locator('[data-testid="target-status"][data-status="online"]')
      .waitFor({ timeout: LIVE_DEADLINE_MS });
    await fixture.targetRow().getByTestId('target-connect').click();
    await page.waitForURL(SESSION_PATH);
    return page.url().match(SESSION_PATH)[1];
  };

  try {
    fixture.workDir = await mkdtemp(path.join(tmpdir(), `tether-e2e-${name}-`));
    fixture.xvfb = await startX();
    fixture.scene = await startScene(fixture.xvfb.display);
    assert.equal(fixture.scene.layout.width, width);
    assert.equal(fixture.scene.layout.height, height);

    const at = netns ? { listen: `${netns.hostIp}:0`, embeddedTurn: `${netns.hostIp}:0` } : {};
    fixture.server = await startServer({ env: serverEnv, args: serverArgs, ...at });
    const { server } = fixture;
    assert.ok(server.adminPassword, `the server printed no one-time password:\n${server.output.join('\n')}`);
    const adminToken = await firstLogin(server.url, 'admin', server.adminPassword, ADMIN_PASSWORD);
    fixture.adminToken = adminToken;
    // Unattended access needs the policy as well as the agent's --unattended.
    await allowUnattended(server.url, adminToken);
    for (const account of [tech, auditor].filter(Boolean)) {
      await createUser(server.url, adminToken, account);
      const token = await firstLogin(server.url, account.username, account.password, account.newPassword);
      if (account === auditor) fixture.auditorToken = token;
    }

    await requireAgentBinary();
    const enrollment = await createEnrollmentToken(server.url, adminToken, `E2E ${name}`);
    const configPath = path.join(fixture.workDir, 'agent.json');
    const prefix = netns?.prefix ?? [];
    const enrolled = await runAgentCommand(['enroll', '--server', server.url, '--token', enrollment, '--config', configPath], { prefix });
    assert.equal(enrolled.code, 0, `enroll failed:\n${enrolled.stdout}${enrolled.stderr}`);
    await beforeAgent(fixture);
    fixture.agent = startAgent(configPath, {
      args: netns ? ['--unattended'] : ['--unattended', '--webrtc-bind', '127.0.0.1:0'],
      display: fixture.xvfb.display,
      prefix,
      env: agentEnv,
    });

    const insecure = netns ? [`--unsafely-treat-insecure-origin-as-secure=${server.url}`] : [];
    fixture.browser = await launchBrowser({ extraArgs: [...LOOPBACK_WEBRTC_ARGS, ...insecure] });
    await instrumentWebRtc(fixture.browser.context);
    fixture.page = await fixture.browser.context.newPage();
    fixture.pageErrors = watchPageErrors(fixture.page);
    return fixture;
  } catch (error) {
    await fixture.stop();
    throw error;
  }
}
