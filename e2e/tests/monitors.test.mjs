// Several monitors, end to end, on Xorg with the dummy driver (Xvfb has no
// RandR monitors): a 1920×720 screen with LEFT (640 wide) and RIGHT (1280
// wide) side by side, the scene's input window on RIGHT. The controller
// lists both, shows all of them in one picture at first, and switches to
// RIGHT: the picture is RIGHT's size and a click on it lands at the right
// place on the screen. A monitor unplugged during the session leaves the
// list (what was shown falls back to the whole screen) and comes back when
// plugged in again. Guidance: in Guidance mode a click reaches nothing on
// the display, and a box drawn over the picture shows on the display (in
// the drawing window, in the picture the agent captures) and is audited
// as a shape; Clear takes it away.

import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stepRunner } from '../lib/steps.mjs';
import { showsText, visible } from '../lib/ui.mjs';
import { LIVE_DEADLINE_MS, startLiveSession } from '../lib/live.mjs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ok } from '../lib/api.mjs';
import { clickAndExpect, pagePointOf, sampleVideo, videoStats } from '../lib/rtc.mjs';
import { until } from '../lib/wait.mjs';
import { deleteMonitor, setMonitor, startXorgDummy } from '../lib/xorg.mjs';

const TECH = {
  username: 'mona',
  displayName: 'Mona Monitors',
  role: 'technician',
  password: 'mona-one-time-pass-1',
  newPassword: 'mona-battery-staple-7',
};
const AUDITOR = {
  username: 'otto',
  displayName: 'Otto Auditor',
  role: 'auditor',
  password: 'otto-one-time-pass-1',
  newPassword: 'otto-battery-staple-7',
};
const WIDTH = 1920;
const HEIGHT = 720;
const LEFT = { name: 'LEFT', x: 0, y: 0, width: 640, height: 720 };
const RIGHT = { name: 'RIGHT', x: 640, y: 0, width: 1280, height: 720 };

/** Whether decoded `stats` are of the whole screen (maybe scaled down to even sides). */
function wholeScreen(stats) {
  return Math.abs(stats.frameWidth / stats.frameHeight - WIDTH / HEIGHT) < 0.01;
}

describe('monitors', () => {
  let live;
  let page;

  before(async () => {
    live = await startLiveSession({
      name: 'monitors',
      tech: TECH,
      auditor: AUDITOR,
      width: WIDTH,
      height: HEIGHT,
      startX: () => startXorgDummy({ width: WIDTH, height: HEIGHT, monitors: [LEFT, RIGHT] }),
    });
    ({ page } = live);
  });

  after(async () => {
    await live?.stop();
  });

  const step = stepRunner('monitors', () => live?.diagnostics() ?? {});
  const picker = () => page.getByTestId('monitors');
  /**
   * Waits until the page maps input to a `width`×`height` screen and the
   * picture shows at that size.
   */
  const pictureIs = async (width, height) => {
    await page.locator(`[data-testid="remote-screen"][data-screen="${width}x${height}"]`).waitFor({ timeout: LIVE_DEADLINE_MS });
    await until(
      () => page.evaluate(({ width, height }) => {
        const video = document.querySelector('[data-testid="remote-video"]');
        return video?.videoWidth === width && video?.videoHeight === height;
      }, { width, height }),
      `a ${width}×${height} picture`,
      { deadlineMs: LIVE_DEADLINE_MS, describe: () => videoStats(page) },
    );
  };

  step('the controller lists both monitors and shows all of them at first', async () => {
    await live.openSession();
    await showsText(page, 'page-title', 'Live session');
    await visible(page, 'remote-video');
    await page.locator('[data-testid="monitors"][data-showing="all"]').waitFor({ timeout: LIVE_DEADLINE_MS });
    assert.equal(await picker().getByTestId('monitor-LEFT').getAttribute('title'), 'LEFT · 640×720 · primary');
    assert.equal(await picker().getByTestId('monitor-RIGHT').getAttribute('title'), 'RIGHT · 1280×720');
    await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor({ timeout: LIVE_DEADLINE_MS });
    const stats = await until(async () => (await videoStats(page))?.frameWidth > 0 && videoStats(page), 'a decoded picture');
    assert.ok(wholeScreen(stats), `the picture is not the whole screen: ${JSON.stringify(stats)}`);
  });

  step('switching to RIGHT shows that monitor alone, and a click lands on it at the right place', async () => {
    await picker().getByTestId('monitor-RIGHT').click();
    await page.locator('[data-testid="monitors"][data-showing="RIGHT"]').waitFor({ timeout: LIVE_DEADLINE_MS });
    await pictureIs(RIGHT.width, RIGHT.height);
    const input = live.scene.layout.input;
    // The input window's centre, within RIGHT.
    const at = { x: input.x + input.width / 2 - RIGHT.x, y: input.y + input.height / 2 - RIGHT.y };
    await clickAndExpect(page, live.scene, at, null, { x: RIGHT.x, y: RIGHT.y });
  });

  step('RIGHT unplugged: the whole screen shows and RIGHT leaves the list; plugged in again, it is back', async () => {
    await deleteMonitor(live.xvfb.display, 'RIGHT');
    // One monitor left: nothing to choose, the picker goes; the picture is the whole screen.
    await picker().waitFor({ state: 'detached', timeout: LIVE_DEADLINE_MS });
    await until(async () => {
      const stats = await videoStats(page);
      return stats?.frameWidth > 0 && wholeScreen(stats);
    }, 'the whole screen again', { deadlineMs: LIVE_DEADLINE_MS, describe: () => videoStats(page) });
    await setMonitor(live.xvfb.display, RIGHT);
    await page.locator('[data-testid="monitors"][data-showing="all"]').waitFor({ timeout: LIVE_DEADLINE_MS });
    await picker().getByTestId('monitor-RIGHT').waitFor();
  });

  step('Guidance: clicks reach nothing, a box drawn over the picture shows on the display and is audited, Clear takes it away', async () => {
    const screen = { width: WIDTH, height: HEIGHT };
    await page.getByTestId('mode-select').selectOption('guidance');
    await page.getByTestId('request-mode').click();
    await showsText(page, 'session-mode', 'Guidance mode');
    // No input: a click on the scene's input window reaches nothing while frames go on.
    const input = live.scene.layout.input;
    const from = live.scene.events.length;
    const over = await pagePointOf(page, { x: input.x + 40, y: input.y + 40 }, screen);
    await page.mouse.click(over.x, over.y);
    const decoded = async () => (await videoStats(page))?.framesDecoded ?? 0;
    const seen = await decoded();
    await until(async () => (await decoded()) >= seen + 5, 'frames after the click', {
      deadlineMs: LIVE_DEADLINE_MS,
      describe: () => videoStats(page),
    });
    assert.deepEqual(live.scene.events.slice(from), [], 'a click reached the display in Guidance mode');

    // A box from (100, 100) to (400, 300), kept until cleared.
    await page.getByTestId('guide-keep').check();
    await page.getByTestId('guide-rectangle').click();
    const start = await pagePointOf(page, { x: 100, y: 100 }, screen);
    const end = await pagePointOf(page, { x: 400, y: 300 }, screen);
    await page.mouse.move(start.x, start.y);
    await page.mouse.down();
    await page.mouse.move((start.x + end.x) / 2, (start.y + end.y) / 2);
    await page.mouse.move(end.x, end.y);
    await page.mouse.up();
    await showsText(page, 'guide-status', 'Their screen shows 1 drawing.');
    const display = { ...process.env, DISPLAY: live.xvfb.display };
    const windows = () => promisify(execFile)('xdotool', ['search', '--onlyvisible', '--name', '^Tether drawing$'], { env: display })
      .then(({ stdout }) => stdout.trim(), () => '');
    await until(windows, 'the drawing window on the display', { deadlineMs: LIVE_DEADLINE_MS });
    // In the picture the agent captures: the box's top edge is the drawing's orange.
    const orange = async () => {
      const stats = await videoStats(page);
      const scale = stats.frameWidth / WIDTH;
      const sample = await sampleVideo(page, [{ x: Math.round(250 * scale), y: Math.round(100 * scale) }], 1);
      const [r, g, b] = sample?.colours[0] ?? [0, 0, 0];
      return r > 200 && g > 60 && g < 160 && b < 60;
    };
    await until(orange, 'the box in the picture', { deadlineMs: LIVE_DEADLINE_MS, describe: () => sampleVideo(page, [{ x: 250, y: 100 }], 1) });
    const { entries } = await ok(live.server.url, 'GET', '/api/audit?action=session.drawing', { token: live.auditorToken });
    assert.equal(entries.length, 1, JSON.stringify(entries));
    const { shape } = entries[0].details;
    assert.equal(shape.kind, 'rectangle');
    const near = (got, want) => Math.abs(got - want) <= 2;
    assert.ok(near(shape.from[0], 100) && near(shape.from[1], 100) && near(shape.to[0], 400) && near(shape.to[1], 300), JSON.stringify(shape));

    await page.getByTestId('guide-clear').click();
    await showsText(page, 'guide-status', 'Their screen shows no drawing.');
    await until(async () => (await windows()) === '', 'the drawing window gone', { deadlineMs: LIVE_DEADLINE_MS });
    await until(async () => !(await orange()), 'the box gone from the picture', { deadlineMs: LIVE_DEADLINE_MS });
  });
});
