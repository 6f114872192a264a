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
//   away, and so does `kill -9` of the watcher.

import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stepRunner } from '../lib/steps.mjs';
import { cargoTargetDir } from '../lib/server.mjs';
import { sceneBinary } from '../lib/scene.mjs';
import { startVm } from '../lib/vm.mjs';
import { until } from '../lib/wait.mjs';

/** The watcher example: `TETHER_INPUT_LOCK_BIN`, else the debug build's. */
function lockBinary() {
  return process.env.TETHER_INPUT_LOCK_BIN ?? path.join(cargoTargetDir(), 'debug', 'examples', 'input_lock');
}

/** Emulated, a VM is slow: waits are generous. */
const DEADLINE_MS = 30_000;

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

  after(async () => {
    await vm?.stop();
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

  const step = stepRunner('vm-input', () => ({ others: { vm: vm?.output ?? [] } }));

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
    for (const key of ['ctrl', 'alt', 'shift']) await vm.pressKey(key, true);
    await vm.sendKeys(['esc']);
    for (const key of ['shift', 'alt', 'ctrl']) await vm.pressKey(key, false);
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
    for (const key of ['ctrl', 'alt', 'shift']) await vm.pressKey(key, true);
    await vm.sendKeys(['esc']);
    for (const key of ['shift', 'alt', 'ctrl']) await vm.pressKey(key, false);
    await waitLine('privacy.out', (line) => line.report === 'escaped', 'the escape combination');
    await monitorCovered(false, 'the scene back on the monitor after the escape combination');

    const pid = await startWatcher('privacy-crash.out', '--privacy');
    await waitLine('privacy-crash.out', (line) => line.report === 'covered', 'the privacy screen again');
    await monitorCovered(true, 'the monitor to go black again');
    await vm.run(`kill -9 ${pid}`);
    await monitorCovered(false, 'the scene back on the monitor after the watcher died');
  });
});
