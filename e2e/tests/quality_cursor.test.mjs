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
import { clickAndExpect as clickRemote, pagePointOf, videoStats } from '../lib/rtc.mjs';
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

describe('quality and the remote pointer', () => {
  let live;
  let scene;
  let page;
  const frameSize = async () => {
    const stats = await videoStats(page);
    return stats && [stats.frameWidth, stats.frameHeight];
  };
  const xdotool = (...args) => promisify(execFile)('xdotool', args, { env: { ...process.env, DISPLAY: live.xvfb.display } });

  const clickAndExpect = (at) => clickRemote(page, scene, at, { width: WIDTH, height: HEIGHT });

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
});
