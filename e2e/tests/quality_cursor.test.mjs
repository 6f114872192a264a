// The quality-versus-speed setting and the remote pointer, end to end: an
// enrolled agent streams a known scene from Xvfb; the technician switches
// to "Speed" in the toolbar, the agent acknowledges it, the decoded picture
// halves and a click still lands on the right screen pixel; the pointer the
// end user moves at the other end is drawn over the picture where it is.
// Then the session ends from outside: the administrator ends it from Live
// sessions, the technician's page says who ended it, their Sessions page
// lists it as ended by the administrator, and the auditor finds it in the
// audit log and reads its timeline from request to end. Before that, a
// policy for the technician's and the computer's groups that allows no
// Active narrows the live session to Monitor at once. Last, the
// technician opens a second session, which starts in Monitor under that
// policy, and ends it from their Sessions page in another tab; and a third,
// ended by the person clicking the X on the agent's session bar — which
// says who is connected and what is in use, and carries a chat both ways.

import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { stepRunner } from '../lib/steps.mjs';
import { hostname } from 'node:os';
import { logOut, shellOf, showsText, signIn, visible } from '../lib/ui.mjs';
import { launchBrowser, watchPageErrors } from '../lib/browser.mjs';
import { ADMIN_PASSWORD, LIVE_DEADLINE_MS, SESSION_PATH, startLiveSession } from '../lib/live.mjs';
import { clickAndExpect as clickRemote, pagePointOf, videoStats } from '../lib/rtc.mjs';
import { until } from '../lib/wait.mjs';
import { ok } from '../lib/api.mjs';

const TECH = {
  username: 'quinn',
  displayName: 'Quinn Technician',
  role: 'technician',
  password: 'quinn-one-time-pass-1',
  newPassword: 'quinn-battery-staple-7',
};
const AUDITOR = {
  username: 'aurora',
  displayName: 'Aurora Auditor',
  role: 'auditor',
  password: 'aurora-one-time-pass-1',
  newPassword: 'aurora-ledger-lantern-5',
};
const WIDTH = 1280;
const HEIGHT = 720;
const DEADLINE_MS = LIVE_DEADLINE_MS;

describe('quality and the remote pointer', () => {
  let live;
  let scene;
  let page;
  let sessionId = null;
  /** A second browser for the administrator, then the auditor (the technician's page stays open). */
  let other = null;
  const frameSize = async () => {
    const stats = await videoStats(page);
    return stats && [stats.frameWidth, stats.frameHeight];
  };
  const xdotool = (...args) => promisify(execFile)('xdotool', args, { env: { ...process.env, DISPLAY: live.xvfb.display } });

  const clickAndExpect = (at) => clickRemote(page, scene, at, { width: WIDTH, height: HEIGHT });

  before(async () => {
    live = await startLiveSession({ name: 'quality', tech: TECH, auditor: AUDITOR, width: WIDTH, height: HEIGHT });
    ({ scene, page } = live);
  });

  after(async () => {
    await other?.browser.close();
    await live?.stop();
  });

  /** Signs `username` in on the second browser's page and waits for the `role`'s shell. */
  async function signInElsewhere(username, password, role) {
    if (!other) {
      const browser = await launchBrowser();
      const otherPage = await browser.context.newPage();
      other = { browser, page: otherPage, errors: watchPageErrors(otherPage) };
      await otherPage.goto(live.server.url);
    } else {
      await logOut(other.page);
    }
    await signIn(other.page, username, password);
    await shellOf(other.page, role);
    driven = other.page;
    return other.page;
  }

  // A failing step's screenshot is of the page it was driving.
  let driven = null;
  const step = stepRunner('quality', () => (live ? { ...live.diagnostics(), page: driven ?? live.page } : {}));

  step('the session opens at the agent\'s default quality, shown in the toolbar', async () => {
    sessionId = await live.openSession();
    await showsText(page, 'page-title', 'Live session');
    await visible(page, 'remote-video');
    await page.locator('[data-testid="quality"][data-applied="balanced"]').waitFor({ timeout: DEADLINE_MS });
    await until(async () => (await frameSize())?.[0] === WIDTH, 'full-size frames', { deadlineMs: DEADLINE_MS, describe: frameSize });
  });

  step('"Speed" applies live: acknowledged, half-size frames, clicks still land on screen pixels', async () => {
    await page.getByTestId('quality-speed').click();
    await page.locator('[data-testid="quality"][data-applied="speed"]').waitFor({ timeout: DEADLINE_MS });
    await until(
      async () => {
        const size = await frameSize();
        return size?.[0] === WIDTH / 2 && size?.[1] === HEIGHT / 2;
      },
      'half-size frames',
      { deadlineMs: DEADLINE_MS, describe: frameSize },
    );
    await until(() => page.evaluate(() => document.querySelector('[data-testid="remote-video"]').videoWidth === 640), 'the video to shrink');
    await page.locator('[data-testid="input-state"][data-ready="true"]').waitFor({ timeout: DEADLINE_MS });
    const input = scene.layout.input;
    await clickAndExpect({ x: input.x + 137, y: input.y + 84 });
  });

  step('the remote pointer is drawn where the end user moves it', async () => {
    // The technician's own pointer leaves the picture, so the remote one shows.
    await page.mouse.move(2, 2);
    await xdotool('mousemove', '900', '500');
    const cursor = page.getByTestId('remote-cursor');
    await until(
      () => cursor.evaluate((img) => !img.hidden && img.dataset.x === '900' && img.dataset.y === '500' && img.complete),
      'the remote cursor at (900, 500)',
      { deadlineMs: DEADLINE_MS, describe: () => cursor.evaluate((img) => ({ hidden: img.hidden, ...img.dataset })) },
    );
    const drawn = await cursor.boundingBox();
    const expected = await pagePointOf(page, { x: 900, y: 500 }, { width: WIDTH, height: HEIGHT });
    // The image's top-left is the hot spot's offset (a few pixels) up and left of the point.
    const offset = { x: expected.x - drawn.x, y: expected.y - drawn.y };
    assert.ok(
      offset.x >= 0 && offset.x < 20 && offset.y >= 0 && offset.y < 20,
      `drawn at ${JSON.stringify(drawn)}, pointer at ${JSON.stringify(expected)}`,
    );
  });

  step('"Quality" brings full-size frames back', async () => {
    await page.getByTestId('quality-quality').click();
    await page.locator('[data-testid="quality"][data-applied="quality"]').waitFor({ timeout: DEADLINE_MS });
    await until(async () => (await frameSize())?.[0] === WIDTH, 'full-size frames', { deadlineMs: DEADLINE_MS, describe: frameSize });
  });

  step('a pair\'s policy without Active narrows the live session at once: frames go on, clicks stop landing', async () => {
    const { url } = live.server;
    const token = live.adminToken;
    const users = await ok(url, 'GET', '/api/users', { token });
    const techId = users.find((user) => user.username === TECH.username).id;
    const computers = await ok(url, 'GET', '/api/computers', { token });
    const computerId = computers.find((computer) => computer.hostname === hostname()).id;
    const helpdesk = await ok(url, 'POST', '/api/technician-groups', { token, body: { name: 'Helpdesk' } });
    const lab = await ok(url, 'POST', '/api/target-groups', { token, body: { name: 'Lab' } });
    await ok(url, 'PUT', `/api/technician-groups/${helpdesk.id}/members/${techId}`, { token });
    await ok(url, 'PUT', `/api/target-groups/${lab.id}/members/${computerId}`, { token });
    const policy = { session: {}, access: { allowed_modes: ['monitor', 'chat'], unattended: true } };
    await ok(url, 'POST', '/api/policy-assignments', {
      token,
      body: { technician_group: helpdesk.id, target_group: lab.id, policy },
    });

    await showsText(page, 'session-mode', 'Monitor mode');
    await showsText(page, 'input-state', /^View only: the session is in Monitor mode/);
    const decoded = async () => (await videoStats(page))?.framesDecoded ?? 0;
    const input = scene.layout.input;
    const from = scene.events.length;
    const point = await pagePointOf(page, { x: input.x + 50, y: input.y + 50 }, { width: WIDTH, height: HEIGHT });
    await page.mouse.click(point.x, point.y);
    const seen = await decoded();
    await until(async () => (await decoded()) >= seen + 10, 'frames after the policy narrowed the session', {
      deadlineMs: DEADLINE_MS,
      describe: () => videoStats(page),
    });
    assert.deepEqual(scene.events.slice(from), [], 'a click reached the X display after the policy took control away');
    const { entries } = await ok(url, 'GET', `/api/audit?action=session.policy_narrowed`, { token: live.auditorToken });
    assert.deepEqual(entries.map((entry) => entry.details), [{ from: 'active', to: 'monitor' }]);
    // The pair's policy stays: the next session starts in Monitor (the last step).
  });

  step('the administrator\'s Live sessions page shows the session and ends it', async () => {
    const admin = await signInElsewhere('admin', ADMIN_PASSWORD, 'admin');
    await admin.getByTestId('nav-live-sessions').click();
    await showsText(admin, 'page-title', 'Live sessions');
    const row = admin.locator(`[data-testid="live-session-row"][data-id="${sessionId}"]`);
    await row.waitFor({ timeout: DEADLINE_MS });
    await showsText(row, 'live-session-technician', TECH.displayName);
    await showsText(row, 'live-session-computer', hostname());
    await row.locator('[data-testid="live-session-controller"][data-attached="true"]').waitFor();
    await row.locator('[data-testid="live-session-state"][data-state="active"]').waitFor();
    await row.getByTestId('live-session-end').click();
    await visible(admin, 'confirm-dialog');
    await admin.getByTestId('confirm-submit').click();
    await admin.getByTestId('confirm-dialog').waitFor({ state: 'detached' });
    await showsText(admin, 'live-sessions-notice', `Ended ${TECH.displayName}'s session`);
    await row.waitFor({ state: 'detached', timeout: DEADLINE_MS });
    await visible(admin, 'live-sessions-empty');
    assert.deepEqual(other.errors, [], 'the administrator\'s page reported errors');
  });

  step('the technician\'s page says the administrator ended the session', async () => {
    driven = page;
    await page.locator('[data-testid="screen-message"][data-kind="ended"]').waitFor({ timeout: DEADLINE_MS });
    assert.equal(await page.getByTestId('ended-reason').textContent(), 'Ended by administrator admin.');
  });

  step('the technician\'s Sessions page lists it as ended, by the administrator', async () => {
    await page.getByTestId('nav-sessions').click();
    await showsText(page, 'page-title', 'Sessions');
    const row = page.locator(`[data-testid="session-row"][data-id="${sessionId}"][data-live="false"]`);
    await row.waitFor({ timeout: DEADLINE_MS });
    await showsText(row, 'session-cell-computer', hostname());
    await showsText(row, 'session-outcome', 'Ended by administrator admin.');
    assert.equal(await row.getByTestId('session-ended-by').textContent(), 'Ended by admin');
    assert.match(await row.getByTestId('session-cell-duration').textContent(), /^\d+ (s|min \d\d s)$/);
    assert.equal(await row.getByTestId('session-end').count(), 0, 'an ended session offers no End');
  });

  step('the auditor finds the session in the audit log and reads its timeline in order', async () => {
    const auditor = await signInElsewhere(AUDITOR.username, AUDITOR.newPassword, 'auditor');
    await auditor.getByTestId('nav-audit').click();
    // A part of the action's name, in another case, is enough.
    await auditor.getByTestId('filter-action').fill('SESSION.E');
    await auditor.getByTestId('filter-apply').click();
    const ended = auditor.locator('[data-testid="audit-row"][data-action="session.end"]');
    await ended.waitFor({ timeout: DEADLINE_MS });
    assert.equal(await auditor.locator('[data-testid="audit-row"]').count(), 1, 'only the end matches');
    await showsText(ended, 'audit-cell-target', hostname());
    await ended.getByTestId('audit-session-link').click();
    await showsText(auditor, 'page-title', 'Session timeline');
    await auditor.locator('[data-testid="timeline-session"][data-state="ended"]').waitFor();
    await showsText(auditor, 'timeline-technician', TECH.displayName);
    await showsText(auditor, 'timeline-ended', 'By admin.');
    const entries = auditor.getByTestId('timeline-entry');
    await entries.first().waitFor();
    const actions = await entries.evaluateAll((items) => items.map((item) => item.dataset.action));
    const story = actions.filter((action) => ['session.request', 'session.start', 'session.end'].includes(action));
    assert.deepEqual(story, ['session.request', 'session.start', 'session.end'], `timeline: ${actions.join(', ')}`);
    assert.equal(actions.at(-1), 'session.end', 'the end is the last entry');
    const request = auditor.locator('[data-testid="timeline-entry"][data-action="session.request"]');
    assert.equal(await request.getByTestId('timeline-actor').textContent(), TECH.username);
    const end = auditor.locator('[data-testid="timeline-entry"][data-action="session.end"]');
    assert.equal(await end.getByTestId('timeline-actor').textContent(), 'admin');
    assert.equal(await end.getByTestId('timeline-words').textContent(), 'the session ended');
    await showsText(end, 'timeline-detail', 'reason: ended by administrator admin');
    assert.deepEqual(other.errors, [], 'the auditor\'s page reported errors');
  });

  step('the technician ends their own live session from the Sessions page in another tab', async () => {
    driven = page;
    await page.getByTestId('nav-targets').click();
    await live.targetRow().locator('[data-testid="target-status"][data-status="online"]').waitFor({ timeout: DEADLINE_MS });
    await live.targetRow().getByTestId('target-connect').click();
    await page.waitForURL(SESSION_PATH);
    const secondId = page.url().match(SESSION_PATH)[1];
    await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor({ timeout: DEADLINE_MS });
    // The pair's policy allows no Active: the session starts in Monitor, streaming, without control.
    await showsText(page, 'session-mode', 'Monitor mode');
    await showsText(page, 'input-state', /^View only/);
    await until(async () => ((await videoStats(page))?.framesDecoded ?? 0) >= 5, 'frames in Monitor', {
      deadlineMs: DEADLINE_MS,
      describe: () => videoStats(page),
    });

    const list = await live.browser.context.newPage();
    driven = list;
    const listErrors = watchPageErrors(list);
    await list.goto(new URL('/sessions', live.server.url).href);
    const row = list.locator(`[data-testid="session-row"][data-id="${secondId}"][data-live="true"]`);
    await row.waitFor({ timeout: DEADLINE_MS });
    assert.equal(await row.getByTestId('session-open').getAttribute('href'), `/sessions/${secondId}`);
    const duration = row.getByTestId('session-cell-duration');
    const shownFirst = await duration.textContent();
    await until(async () => (await duration.textContent()) !== shownFirst, 'the live session\'s duration to tick', {
      deadlineMs: DEADLINE_MS,
    });
    await row.getByTestId('session-end').click();
    await visible(list, 'confirm-dialog');
    await list.getByTestId('confirm-submit').click();
    await showsText(list, 'sessions-notice', 'Ended the session with');
    const ended = list.locator(`[data-testid="session-row"][data-id="${secondId}"][data-live="false"]`);
    await showsText(ended, 'session-ended-by', `Ended by ${TECH.username}`);
    await page.locator('[data-testid="screen-message"][data-kind="ended"]').waitFor({ timeout: DEADLINE_MS });
    assert.equal(await page.getByTestId('ended-reason').textContent(), `Ended by the technician ${TECH.username}.`);
    assert.deepEqual(listErrors, [], 'the Sessions tab reported errors');
    await list.close();
    driven = page;
  });

  step('the session bar is on the display, says what is in use, chats both ways, moves, folds, and its X ends the session on both sides', async () => {
    await page.getByTestId('nav-targets').click();
    await live.targetRow().locator('[data-testid="target-status"][data-status="online"]').waitFor({ timeout: DEADLINE_MS });
    await live.targetRow().getByTestId('target-connect').click();
    await page.waitForURL(SESSION_PATH);
    await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor({ timeout: DEADLINE_MS });

    // The agent's own window, found by its name on the X display.
    const found = await until(
      () => xdotool('search', '--name', '^Tether session$').then(({ stdout }) => stdout.trim().split('\n')[0], () => null),
      'the session bar on the display',
      { deadlineMs: DEADLINE_MS },
    );
    const geometry = async () => {
      const { stdout } = await xdotool('getwindowgeometry', '--shell', found);
      const shell = Object.fromEntries(stdout.trim().split('\n').map((line) => line.split('=')));
      return { x: Number(shell.X), y: Number(shell.Y), width: Number(shell.WIDTH), height: Number(shell.HEIGHT) };
    };
    const first = await geometry();
    assert.equal(first.y, 0, 'at the top of the screen');
    // Its line (also a text property, for tools that read windows) says who, how and what is in use.
    const barText = () => promisify(execFile)('xprop', ['-id', found, '_TETHER_BAR_TEXT'], { env: { ...process.env, DISPLAY: live.xvfb.display } })
      .then(({ stdout }) => stdout);
    const line = await until(async () => {
      const text = await barText();
      return /is connected - \w+ mode - viewing/.test(text) && text;
    }, 'the bar to say the screen is being viewed', { deadlineMs: DEADLINE_MS, describe: barText });
    assert.match(line, new RegExp(`${TECH.displayName} is connected`));
    // Chat from the bar: the technician's line shows there; the person opens Chat, types and sends.
    await page.getByTestId('chat-input').fill('Can you see the Tether bar at the top?');
    await page.getByTestId('chat-send').click();
    const heard = () => promisify(execFile)('xprop', ['-id', found, '_TETHER_BAR_HEARD'], { env: { ...process.env, DISPLAY: live.xvfb.display } })
      .then(({ stdout }) => stdout, () => '');
    await until(async () => (await heard()).includes(`${TECH.displayName}: Can you see the Tether bar at the top?`),
      'the bar to show the technician\'s line', { deadlineMs: DEADLINE_MS, describe: heard });
    await xdotool('mousemove', String(first.x + first.width - 72), '12', 'click', '1');
    await until(async () => (await geometry()).height > 32 || null, 'the chat row to open', { deadlineMs: DEADLINE_MS, describe: geometry });
    await xdotool('type', '--delay', '20', 'Yes, thanks!');
    await xdotool('key', 'Return');
    const fromBar = page.locator('[data-testid="chat-line"][data-from="person"]').getByTestId('chat-text').filter({ hasText: 'Yes, thanks!' });
    await fromBar.waitFor({ timeout: DEADLINE_MS });
    await xdotool('key', 'Escape');
    await until(async () => (await geometry()).height === 32, 'the chat row to close', { deadlineMs: DEADLINE_MS, describe: geometry });
    // Dragging its text moves it out of the way.
    await xdotool('mousemove', String(first.x + 20), '12', 'mousedown', '1');
    await xdotool('mousemove', String(first.x + 120), '112');
    await xdotool('mouseup', '1');
    const moved = await until(async () => {
      const now = await geometry();
      return now.y > 0 && now;
    }, 'the bar to follow the drag', { deadlineMs: DEADLINE_MS, describe: geometry });
    assert.equal(moved.x - first.x, moved.y - first.y, 'moved by the drag');
    // A click on its text folds it to a small tab (another unfolds it).
    await xdotool('mousemove', String(moved.x + 20), String(moved.y + 12), 'click', '1');
    await until(async () => (await geometry()).width < first.width, 'the bar to fold', { deadlineMs: DEADLINE_MS, describe: geometry });
    // Its X is the right end, folded or not: a click there ends the session, as the person's choice.
    const folded = await geometry();
    await xdotool('mousemove', String(folded.x + folded.width - 10), String(folded.y + 12), 'click', '1');
    await page.locator('[data-testid="connection-state"][data-state="ended"]').waitFor({ timeout: DEADLINE_MS });
    await showsText(page, 'connection-state', /the person at the computer ended the session/);
    await until(
      () => xdotool('search', '--name', '^Tether session$').then(() => false, () => true),
      'the bar to leave the display with the session',
      { deadlineMs: DEADLINE_MS },
    );
  });
});
