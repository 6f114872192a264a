// The local-input lock against physical devices: a Debian VM (lib/vm.mjs;
// its image from scripts/vm-image.sh) whose Xorg reads QEMU's PS/2
// keyboard and USB tablet as real devices, which the test presses through
// QEMU's monitor. The agent's own watcher (agent/examples/input_lock.rs,
// the code sessions use) runs in the VM beside the known scene:
// - watching only, a physical key is reported as the person's activity;
// - locked, physical keys and clicks reach nothing while XTEST input (the
//   technician's way in) still does; Ctrl+Alt+Shift+Esc on the physical
//   keyboard unlocks at once, locally, and says so;
// - locked again, `kill -9` of the watcher leaves the person's keyboard
//   working: the X server ends the lock with the connection that held it;
// - with the privacy screen over the lock, the VM's own monitor (QEMU's
//   screendump: what a person in the room sees) shows black and the
//   screen's words instead of the scene; the escape combination takes it
//   away, and so does `kill -9` of the watcher;
// - then the real agent runs in the VM, enrolled with a server on the host
//   (reached through a veth address both the VM, through QEMU's NAT, and
//   Chromium reach; media through the server's embedded relay), and the
//   technician works from Chromium: the person's physical keys hold the
//   technician's clicks back and the page says so; the lock from the page
//   blocks physical keys while the technician's clicks land, and the
//   escape combination ends it, which the page says; the privacy screen
//   from the page blackens the VM's monitor while the page's picture
//   still shows the scene, and the escape combination removes it; `kill
//   -9` of the agent with both on gives the monitor and the keyboard back.

import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stepRunner } from '../lib/steps.mjs';
import { cargoTargetDir } from '../lib/server.mjs';
import { sceneBinary } from '../lib/scene.mjs';
import { startVm } from '../lib/vm.mjs';
import { until } from '../lib/wait.mjs';
import { agentBinary } from '../lib/agent.mjs';
import { allowUnattended, createEnrollmentToken, createUser, firstLogin, ok } from '../lib/api.mjs';
import { LOOPBACK_WEBRTC_ARGS, launchBrowser, watchPageErrors } from '../lib/browser.mjs';
import { createNetns } from '../lib/netns.mjs';
import { clickAndExpect, instrumentWebRtc, pagePointOf, sampleVideo, videoStats } from '../lib/rtc.mjs';
import { centreOf, rgbOf } from '../lib/scene.mjs';
import { startServer } from '../lib/server.mjs';
import { shellOf, showsText, signIn } from '../lib/ui.mjs';

/** The watcher example: `TETHER_INPUT_LOCK_BIN`, else the debug build's. */
function lockBinary() {
  return process.env.TETHER_INPUT_LOCK_BIN ?? path.join(cargoTargetDir(), 'debug', 'examples', 'input_lock');
}

/** Emulated, a VM is slow: waits are generous. */
const DEADLINE_MS = 30_000;
const ADMIN_PASSWORD = 'admin-correct-horse-42';
const TECH = { username: 'tess', displayName: 'Tess Technician', role: 'technician', password: 'tess-one-time-pass-1' };
const TECH_PASSWORD = 'tess-battery-staple-7';
const AUDITOR = { username: 'aude', displayName: 'Aude Auditor', role: 'auditor', password: 'aude-one-time-pass-1' };
/** Largest difference per colour channel between the scene and the decoded picture. */
const COLOUR_TOLERANCE = 16;
const sameColour = (got, want) => got.every((value, i) => Math.abs(value - want[i]) <= COLOUR_TOLERANCE);

describe('vm input', () => {
  let vm;
  let share;

  before(async () => {
    share = await mkdtemp(path.join(tmpdir(), 'tether-e2e-vm-'));
    await copyFile(sceneBinary(), path.join(share, 'x11_scene'));
    await copyFile(lockBinary(), path.join(share, 'input_lock'));
    vm = await startVm({ share });
    await vm.run('setsid /host/x11_scene >/host/scene.out 2>&1 </dev/null &');
    await until(async () => (await lines('scene.out')).some((line) => line.event === 'ready'), 'the scene in the VM', {
      deadlineMs: DEADLINE_MS,
      describe: () => lines('scene.out'),
    });
  });

  /** The session's parts, once started (see `startSession`). */
  const session = { netns: null, server: null, browser: null, page: null, agentPid: null, pageErrors: [] };

  after(async () => {
    await session.browser?.close();
    await vm?.stop();
    await session.server?.stop();
    await session.netns?.remove();
    if (share) await rm(share, { recursive: true, force: true });
  });

  /** The JSON lines a program in the VM wrote to `name` in the share. */
  async function lines(name) {
    const text = await readFile(path.join(share, name), 'utf8').catch(() => '');
    return text.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
  }

  /** Waits until `name` has a line matching `predicate`; resolves to it. */
  function waitLine(name, predicate, what) {
    return until(async () => (await lines(name)).find(predicate), what, {
      deadlineMs: DEADLINE_MS,
      describe: async () => (await lines(name)).slice(-5),
    });
  }

  const typed = (text) => (line) => line.event === 'key_press' && line.text === text;
  /** Starts the watcher (`--lock` to lock) logging to `log`; resolves to its PID in the VM. */
  async function startWatcher(log, args = '') {
    const { stdout } = await vm.run(`setsid /host/input_lock ${args} >/host/${log} 2>&1 </dev/null & echo $!`);
    await waitLine(log, (line) => line.report === 'watching', 'the watcher to start');
    return stdout.trim();
  }

  /** The fraction of the VM's monitor that is black (every 8th pixel looked at). */
  async function blackOnMonitor() {
    const { rgb } = await vm.screendump();
    let [black, seen] = [0, 0];
    for (let at = 0; at + 2 < rgb.length; at += 3 * 8) {
      if (rgb[at] + rgb[at + 1] + rgb[at + 2] === 0) black += 1;
      seen += 1;
    }
    return black / seen;
  }

  /** Waits until the monitor is covered (`true`: mostly black) or shows the scene. */
  function monitorCovered(covered, what) {
    return until(async () => ((await blackOnMonitor()) > 0.9) === covered, what, {
      deadlineMs: DEADLINE_MS,
      describe: blackOnMonitor,
    });
  }

  /** The scene in the VM as `rtc.mjs` expects it: `events` refreshed by `refresh()` and by `waitFor`. */
  const scene = {
    layout: null,
    events: [],
    async refresh() {
      const all = await lines('scene.out');
      scene.layout = all.find((line) => line.event === 'ready');
      scene.events = all.filter((line) => line.event !== 'ready');
    },
    waitFor: (predicate, what, { from = 0 } = {}) =>
      until(async () => {
        await scene.refresh();
        return scene.events.slice(from).find(predicate);
      }, what, { deadlineMs: DEADLINE_MS, describe: () => scene.events.slice(from) }),
  };

  /** The server on the host, the real agent in the VM, and Chromium with the session open. */
  async function startSession() {
    session.netns = await createNetns();
    const { hostIp } = session.netns;
    session.server = await startServer({ listen: `${hostIp}:0`, embeddedTurn: `${hostIp}:0` });
    const { url } = session.server;
    const adminToken = await firstLogin(url, 'admin', session.server.adminPassword, ADMIN_PASSWORD);
    await allowUnattended(url, adminToken);
    await createUser(url, adminToken, TECH);
    await firstLogin(url, TECH.username, TECH.password, TECH_PASSWORD);
    await createUser(url, adminToken, AUDITOR);
    session.auditorToken = await firstLogin(url, AUDITOR.username, AUDITOR.password, 'aude-battery-staple-7');
    await copyFile(agentBinary(), path.join(share, 'tether-agent'));
    const token = await createEnrollmentToken(url, adminToken, 'E2E VM');
    await vm.run(`/host/tether-agent enroll --server ${url} --token ${token} --config /root/agent.json`);
    const { stdout } = await vm.run(
      'TETHER_LOG=info setsid /host/tether-agent run --config /root/agent.json --unattended >/host/agent.out 2>&1 </dev/null & echo $!',
    );
    session.agentPid = stdout.trim();
    const { stdout: name } = await vm.run('hostname');
    session.browser = await launchBrowser({
      extraArgs: [...LOOPBACK_WEBRTC_ARGS, `--unsafely-treat-insecure-origin-as-secure=${url}`],
    });
    await instrumentWebRtc(session.browser.context);
    const page = await session.browser.context.newPage();
    session.page = page;
    session.pageErrors = watchPageErrors(page);
    await page.goto(url);
    await signIn(page, TECH.username, TECH_PASSWORD);
    await shellOf(page, 'technician');
    const row = page.locator(`[data-testid="target-row"][data-hostname=${JSON.stringify(name.trim())}]`);
    await row.locator('[data-testid="target-status"][data-status="online"]').waitFor({ timeout: DEADLINE_MS });
    await row.getByTestId('target-connect').click();
    await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor({ timeout: DEADLINE_MS });
    await page.locator('[data-testid="input-state"][data-ready="true"]').waitFor({ timeout: DEADLINE_MS });
  }

  /** The agent's output in the VM so far (for failure messages). */
  function agentLines() {
    try {
      return readFileSync(path.join(share, 'agent.out'), 'utf8').split('\n');
    } catch {
      return [];
    }
  }

  /** Presses Ctrl+Alt+Shift+Esc on the VM's physical keyboard. */
  async function escapeCombination() {
    for (const key of ['ctrl', 'alt', 'shift']) await vm.pressKey(key, true);
    await vm.sendKeys(['esc']);
    for (const key of ['shift', 'alt', 'ctrl']) await vm.pressKey(key, false);
  }

  const step = stepRunner('vm-input', () => ({
    page: session.page,
    server: session.server,
    pageErrors: session.pageErrors,
    others: { vm: vm?.output ?? [], 'agent in the VM': agentLines() },
  }));

  step('watching: a physical key is the person\'s activity, and reaches the desktop', async () => {
    await startWatcher('watch.out');
    await vm.sendKeys(['a']);
    await waitLine('scene.out', typed('a'), 'the physical key a on the desktop');
    await waitLine('watch.out', (line) => line.report === 'activity', 'the key reported as activity');
  });

  step('locked: physical keys reach nothing, XTEST input does, and Ctrl+Alt+Shift+Esc unlocks at once', async () => {
    await startWatcher('lock.out', '--lock');
    const locked = await waitLine('lock.out', (line) => line.report === 'locked' || line.report === 'lock_failed', 'the lock');
    assert.equal(locked.report, 'locked', JSON.stringify(locked));
    assert.ok(locked.devices >= 2, `only ${locked.devices} devices locked`);
    await vm.sendKeys(['b']);
    await vm.run('xdotool key c');
    await waitLine('scene.out', typed('c'), 'the XTEST key c on the desktop');
    // The escape combination, held on the physical keyboard.
    await escapeCombination();
    await waitLine('lock.out', (line) => line.report === 'escaped', 'the escape combination to unlock');
    await vm.sendKeys(['d']);
    await waitLine('scene.out', typed('d'), 'the physical key d after unlocking');
    assert.ok(!(await lines('scene.out')).some(typed('b')), 'the physical key b, pressed while locked, reached the desktop');
  });

  step('kill -9 of the locker leaves the person\'s keyboard working', async () => {
    const pid = await startWatcher('crash.out', '--lock');
    await waitLine('crash.out', (line) => line.report === 'locked', 'the lock');
    await vm.sendKeys(['e']);
    await vm.run('xdotool key f');
    await waitLine('scene.out', typed('f'), 'the XTEST key f while locked');
    await vm.run(`kill -9 ${pid}`);
    await vm.sendKeys(['g']);
    await waitLine('scene.out', typed('g'), 'the physical key g after the locker died');
    assert.ok(!(await lines('scene.out')).some(typed('e')), 'the physical key e, pressed while locked, reached the desktop');
  });

  step('the privacy screen covers the VM\'s own monitor; the escape combination and kill -9 each take it away', async () => {
    await monitorCovered(false, 'the scene on the monitor');
    await startWatcher('privacy.out', '--privacy');
    const covered = await waitLine('privacy.out', (line) => line.report === 'covered' || line.report === 'cover_failed', 'the privacy screen');
    assert.equal(covered.report, 'covered', JSON.stringify(covered));
    await monitorCovered(true, 'the monitor to go black');
    await vm.run('xdotool key h');
    await waitLine('scene.out', typed('h'), 'the XTEST key h beneath the privacy screen');
    await escapeCombination();
    await waitLine('privacy.out', (line) => line.report === 'escaped', 'the escape combination');
    await monitorCovered(false, 'the scene back on the monitor after the escape combination');

    const pid = await startWatcher('privacy-crash.out', '--privacy');
    await waitLine('privacy-crash.out', (line) => line.report === 'covered', 'the privacy screen again');
    await monitorCovered(true, 'the monitor to go black again');
    await vm.run(`kill -9 ${pid}`);
    await monitorCovered(false, 'the scene back on the monitor after the watcher died');
  });

  step('from Chromium, the real agent in the VM streams the scene through the relay and the technician\'s click lands', async () => {
    await startSession();
    const { page } = session;
    await scene.refresh();
    await framesShowScene(page, sceneBlocks());
    const input = scene.layout.input;
    await clickAndExpect(page, scene, { x: input.x + 40, y: input.y + 40 });
  });

  step('local input first: while the person types on the physical keyboard, the technician\'s clicks wait and the page says so', async () => {
    const { page } = session;
    const input = scene.layout.input;
    await scene.refresh();
    const from = scene.events.length;
    // The person keeps typing for a while; the technician clicks meanwhile.
    let typing = true;
    const person = (async () => {
      while (typing) await vm.sendKeys(['x']);
    })();
    await scene.waitFor((event) => event.event === 'key_press' && event.text === 'x', 'the person typing', { from });
    await page.locator('[data-testid="input-state"][data-local-use="true"]').waitFor({ timeout: DEADLINE_MS });
    await showsText(page, 'input-state', /The user is using the computer/);
    const point = await pagePointOf(page, { x: input.x + 50, y: input.y + 50 });
    await page.mouse.click(point.x, point.y);
    typing = false;
    await person;
    await page.locator('[data-testid="input-state"][data-local-use="false"]').waitFor({ timeout: DEADLINE_MS });
    await scene.refresh();
    assert.ok(!scene.events.slice(from).some((event) => event.event === 'button_press'), 'the technician\'s click went through while the person typed');
    await clickAndExpect(page, scene, { x: input.x + 60, y: input.y + 60 });
  });

  step('the lock from the page: physical keys reach nothing, the technician\'s clicks land, and the escape combination ends it', async () => {
    const { page } = session;
    await page.getByTestId('lock-input').click();
    await page.locator('[data-testid="lock-input"][data-state="locked"]').waitFor({ timeout: DEADLINE_MS });
    await showsText(page, 'lock-state', /^Their keyboard and mouse are locked \(\d+ devices\)/);
    await scene.refresh();
    const from = scene.events.length;
    await vm.sendKeys(['q']);
    const input = scene.layout.input;
    await clickAndExpect(page, scene, { x: input.x + 70, y: input.y + 30 });
    await escapeCombination();
    await showsText(page, 'lock-state', 'Unlocked: the person at the computer unlocked the keyboard and mouse.');
    await vm.sendKeys(['w']);
    await scene.waitFor(typed('w'), 'the physical key w after the escape', { from });
    assert.ok(!scene.events.slice(from).some(typed('q')), 'the physical key q, pressed while locked, reached the desktop');
  });

  step('the privacy screen from the page blackens the VM\'s monitor while the page still shows the scene; the escape combination removes it', async () => {
    const { page } = session;
    await page.getByTestId('privacy-screen').click();
    await page.locator('[data-testid="privacy-screen"][data-state="on"]').waitFor({ timeout: DEADLINE_MS });
    await monitorCovered(true, 'the monitor to go black');
    await framesShowScene(page, sceneBlocks());
    await escapeCombination();
    await showsText(page, 'privacy-state', 'Their screen shows again: the person at the computer took the privacy screen away.');
    await monitorCovered(false, 'the scene back on the monitor');
    const { entries } = await ok(session.server.url, 'GET', '/api/audit?action=session.privacy_removed', { token: session.auditorToken });
    assert.deepEqual(entries.map((entry) => entry.details.why), ['escape']);
  });

  step('kill -9 of the agent with the lock and the privacy screen on gives the person the monitor and the keyboard back', async () => {
    const { page } = session;
    await page.getByTestId('privacy-screen').click();
    await page.locator('[data-testid="privacy-screen"][data-state="on"]').waitFor({ timeout: DEADLINE_MS });
    await monitorCovered(true, 'the monitor to go black');
    await vm.run(`kill -9 ${session.agentPid}`);
    await monitorCovered(false, 'the scene back on the monitor after the agent died');
    await scene.refresh();
    const from = scene.events.length;
    await vm.sendKeys(['k']);
    await scene.waitFor(typed('k'), 'the physical key k after the agent died', { from });
  });

  /** The scene's blocks: where to look and what colour to see. */
  function sceneBlocks() {
    return scene.layout.blocks.map((block) => ({ at: centreOf(block), rgb: rgbOf(block.rgb) }));
  }

  /** Waits until the page's picture shows each block's colour at its centre. */
  async function framesShowScene(page, blocks) {
    let last = null;
    await until(
      async () => {
        last = await sampleVideo(page, blocks.map((block) => block.at));
        return last && blocks.every((block, i) => sameColour(last.colours[i], block.rgb));
      },
      'the picture to show the scene',
      { deadlineMs: DEADLINE_MS * 2, everyMs: 500, describe: async () => ({ colours: last?.colours, stats: await videoStats(page) }) },
    );
  }
});
