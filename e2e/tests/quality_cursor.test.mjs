// The quality-versus-speed setting and the remote pointer, end to end: an
// enrolled agent streams a known scene from Xvfb; the technician switches
// to "Speed" in the toolbar, the agent acknowledges it, the decoded picture
// halves and a click still lands on the right screen pixel; the pointer the
// end user moves at the other end is drawn over the picture where it is.

import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { stepRunner } from '../lib/steps.mjs';
import { showsText, visible } from '../lib/ui.mjs';
import { LIVE_DEADLINE_MS, startLiveSession } from '../lib/live.mjs';
import { videoStats } from '../lib/rtc.mjs';
import { until } from '../lib/wait.mjs';

const TECH = {
  username: 'quinn',
  displayName: 'Quinn Technician',
  role: 'technician',
  password: 'quinn-one-time-pass-1',
  newPassword: 'quinn-battery-staple-7',
};
const WIDTH = 1280;
const HEIGHT = 720;
const DEADLINE_MS = LIVE_DEADLINE_MS;

/**
 * The page point over screen pixel `(x, y)`: the picture is letterboxed in
 * the `<video>` by the video's own size, and spans the whole screen
 * whatever the stream's scale.
 */
function pagePointOfScreen(page, { x, y }) {
  return page.evaluate(
    ({ x, y, width, height }) => {
      const video = document.querySelector('[data-testid="remote-video"]');
      const rect = video.getBoundingClientRect();
      const scale = Math.min(rect.width / video.videoWidth, rect.height / video.videoHeight);
      const left = rect.left + (rect.width - video.videoWidth * scale) / 2;
      const top = rect.top + (rect.height - video.videoHeight * scale) / 2;
      const perPixel = (video.videoWidth * scale) / width;
      return { x: left + (x + 0.5) * perPixel, y: top + (y + 0.5) * ((video.videoHeight * scale) / height), perPixel };
    },
    { x, y, width: WIDTH, height: HEIGHT },
  );
}

describe('quality and the remote pointer', () => {
  let live;
  let scene;
  let page;
  const frameSize = async () => {
    const stats = await videoStats(page);
    return stats && [stats.frameWidth, stats.frameHeight];
  };
  const xdotool = (...args) => promisify(execFile)('xdotool', args, { env: { ...process.env, DISPLAY: live.xvfb.display } });

  async function clickAndExpect(at) {
    const from = scene.events.length;
    const point = await pagePointOfScreen(page, at);
    await page.mouse.click(point.x, point.y);
    const tolerance = Math.max(1, Math.ceil(1 / point.perPixel));
    const near = (event) => Math.abs(event.root_x - at.x) <= tolerance && Math.abs(event.root_y - at.y) <= tolerance;
    const press = await scene.waitFor((e) => e.event === 'button_press', `a button press near ${JSON.stringify(at)}`, { from });
    assert.ok(near(press), `X saw the press at (${press.root_x}, ${press.root_y}), the browser clicked over (${at.x}, ${at.y})`);
  }

  before(async () => {
    live = await startLiveSession({ name: 'quality', tech: TECH, width: WIDTH, height: HEIGHT });
    ({ scene, page } = live);
  });

  after(async () => {
    await live?.stop();
  });

  const step = stepRunner('quality', () => live?.diagnostics() ?? {});

  step('the session opens at the agent\'s default quality, shown in the toolbar', async () => {
    await live.openSession();
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
    const expected = await pagePointOfScreen(page, { x: 900, y: 500 });
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
});
