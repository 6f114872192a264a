// Real streaming, end to end: Xvfb shows a known scene (solid colour blocks
// and an input window that logs what it receives); an enrolled agent run
// with --unattended streams that display; headless Chromium logs in as a
// technician and opens the session from the Targets page. The test checks
// that frames decode and keep decoding, that the decoded picture has the
// scene's colours at the scene's places, that a click and typed text in the
// browser reach the X display at the right place, and that the session
// survives malformed, oversized and hostile messages on the input channel;
// the technician locks the person's own keyboard and mouse (Xvfb's), their
// own clicks still land, and the lock and its end are audited; the lock
// lapses by itself when the page goes quiet (its script paused); the privacy
// screen covers what Xvfb shows (read back with xwd) while the technician
// still sees the scene and clicks through it.

import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stepRunner } from '../lib/steps.mjs';
import { showsText, visible } from '../lib/ui.mjs';
import { LIVE_DEADLINE_MS, startLiveSession } from '../lib/live.mjs';
import { centreOf, rgbOf } from '../lib/scene.mjs';
import { clickAndExpect as clickRemote, sampleVideo, sendRaw, videoStats } from '../lib/rtc.mjs';
import { until } from '../lib/wait.mjs';
import { ok } from '../lib/api.mjs';
import { readScreen, tally } from '../lib/xwd.mjs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const TECH = {
  username: 'tess',
  displayName: 'Tess Technician',
  role: 'technician',
  password: 'tess-one-time-pass-1',
  newPassword: 'tess-battery-staple-7',
};
const AUDITOR = {
  username: 'aude',
  displayName: 'Aude Auditor',
  role: 'auditor',
  password: 'aude-one-time-pass-1',
  newPassword: 'aude-battery-staple-7',
};
const DEADLINE_MS = LIVE_DEADLINE_MS;
/**
 * Largest difference per colour channel between the scene and the decoded
 * picture: H.264 at the agent's bitrate, 4:2:0 chroma and the YUV→RGB
 * conversions on both sides leave a few steps on flat colour.
 */
const COLOUR_TOLERANCE = 16;

/** Whether two `[r, g, b]` differ by at most `COLOUR_TOLERANCE` per channel. */
function sameColour(got, want) {
  return got.every((value, i) => Math.abs(value - want[i]) <= COLOUR_TOLERANCE);
}

/**
 * Messages no well-behaved controller sends: each must be dropped by the
 * agent's decoder without effect. Strings go as text, `{ bytes }` as binary.
 */
const HOSTILE_MESSAGES = [
  'not json',
  '',
  '\u0000',
  '{"t":"format_disk"}',
  '{"t":"mouse_button","button":"left","down":true,"x":5000,"y":10}',
  '{"t":"mouse_button","button":"left","down":true,"x":10,"y":720}',
  '{"t":"mouse_move","x":-1,"y":0}',
  '{"t":"mouse_move","x":4294967296,"y":0}',
  '{"t":"mouse_move","x":1e99,"y":0}',
  '{"t":"key","key":"KeyA","down":true,"repeat":9}',
  '{"t":"key","key":"KeyÆ","down":true}',
  '{"t":"key","key":{"code":"KeyA"},"down":true}',
  '{"t":"wheel","dx":0,"dy":1000}',
  '{"t":"text","text":"a\\u0007b"}',
  '{"t":"text","text":""}',
  `{"t":"text","text":"${'é'.repeat(300)}"}`,
  `{"t":"text","text":"${'x'.repeat(4_000)}"}`,
  `{"t":"text","text":"${'y'.repeat(60_000)}"}`,
  `${'['.repeat(500)}${']'.repeat(500)}`,
  { bytes: [0xff, 0xfe, 0x00, 0x80, 0x7b] },
  { bytes: [] },
];

describe('streaming', () => {
  let live;
  let scene;
  let page;
  let agent = null;
  let sessionId = null;
  const framesDecoded = async () => (await videoStats(page))?.framesDecoded ?? 0;

  /** Waits until the page has decoded `count` more frames than now. */
  async function framesKeepDecoding(count) {
    const start = await framesDecoded();
    await until(async () => (await framesDecoded()) >= start + count, `${count} more decoded frames (from ${start})`, {
      deadlineMs: DEADLINE_MS,
      everyMs: 200,
      describe: () => videoStats(page),
    });
  }

  /** A spot of the scene where only the desktop (the root window) shows. */
  const bare = { x: 1200, y: 660 };

  /** Waits until what Xvfb shows at `bare` is the scene's desktop colour again. */
  const desktopShows = (what) =>
    until(
      async () => (await readScreen(live.xvfb.display)).rgbAt(bare.x, bare.y).every((value, i) => value === rgbOf(scene.layout.background)[i]),
      what,
      { deadlineMs: DEADLINE_MS },
    );

  /** Clicks the picture over remote pixel `at` and waits for X to log the press and release there. */
  const clickAndExpect = (at) => clickRemote(page, scene, at);

  before(async () => {
    live = await startLiveSession({ name: 'streaming', tech: TECH, auditor: AUDITOR });
    ({ scene, page, agent } = live);
  });

  after(async () => {
    await live?.stop();
  });

  const step = stepRunner('streaming', () => live?.diagnostics() ?? {});

  step('a technician opens the session from the Targets page and frames decode', async () => {
    sessionId = await live.openSession();
    await showsText(page, 'page-title', 'Live session');
    await visible(page, 'remote-video');
    await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor({ timeout: DEADLINE_MS });

    const first = await until(
      async () => {
        const stats = await videoStats(page);
        return stats && stats.framesDecoded > 0 && stats;
      },
      'the first decoded frame',
      { deadlineMs: DEADLINE_MS, describe: () => videoStats(page) },
    );
    assert.match(first.codec ?? '', /^video\/H264/i, `decoded ${first.codec}, not H.264`);
    assert.deepEqual([first.frameWidth, first.frameHeight], [scene.layout.width, scene.layout.height], 'the picture is not the display size');
    // The agent resends a still screen at least once a second.
    await framesKeepDecoding(3);
  });

  step('the decoded picture shows the scene: known colours at known places', async () => {
    const places = [
      ...scene.layout.blocks.map((block) => ({ name: block.name, at: centreOf(block), rgb: rgbOf(block.rgb) })),
      { name: 'input window', at: centreOf(scene.layout.input), rgb: rgbOf(scene.layout.input.rgb) },
      { name: 'background', at: bare, rgb: rgbOf(scene.layout.background) },
    ];
    let last = null;
    await until(
      async () => {
        last = await sampleVideo(page, places.map((place) => place.at));
        return last && last.width === scene.layout.width && places.every((place, i) => sameColour(last.colours[i], place.rgb));
      },
      'the picture to show the scene',
      {
        deadlineMs: DEADLINE_MS,
        everyMs: 250,
        describe: () => places.map((place, i) => ({ name: place.name, want: place.rgb, got: last?.colours[i] })),
      },
    );
    if (process.env.TETHER_E2E_VERBOSE) {
      console.error(places.map((place, i) => `${place.name}: want ${place.rgb} got ${last.colours[i]}`).join('\n'));
    }
  });

  step('a click on the picture reaches the X display at the same place', async () => {
    await page.locator('[data-testid="input-state"][data-ready="true"]').waitFor({ timeout: DEADLINE_MS });
    const input = scene.layout.input;
    await clickAndExpect({ x: input.x + 137, y: input.y + 84 });
  });

  step('typed text reaches the focused window on the X display', async () => {
    // The click focused the picture, so the keyboard is the remote computer's.
    assert.ok(
      await page.evaluate(() => document.activeElement?.dataset?.testid === 'remote-video'),
      'the picture does not have the focus after a click',
    );
    const from = scene.events.length;
    const text = 'tether 42';
    await page.keyboard.type(text);
    const typed = () =>
      scene.events
        .slice(from)
        .filter((e) => e.event === 'key_press')
        .map((e) => e.text ?? '')
        .join('');
    await until(() => typed() === text, `X to receive ${JSON.stringify(text)}`, {
      deadlineMs: DEADLINE_MS,
      describe: typed,
    });
    // Every key that went down came up again.
    await until(
      () => {
        const held = new Map();
        for (const e of scene.events.slice(from)) {
          if (e.event === 'key_press') held.set(e.keycode, (held.get(e.keycode) ?? 0) + 1);
          if (e.event === 'key_release') held.set(e.keycode, (held.get(e.keycode) ?? 0) - 1);
        }
        return [...held.values()].every((count) => count === 0);
      },
      'every typed key to be released',
      { deadlineMs: DEADLINE_MS, describe: () => scene.events.slice(from) },
    );
  });

  step('malformed, oversized and hostile input messages are dropped and the session goes on', async () => {
    const from = scene.events.length;
    // The decoder's refusals (`reason=…`), not other reasons to drop input.
    const dropped = () => agent.output.filter((line) => /dropping an input message.*reason/.test(line)).length;
    const droppedBefore = dropped();
    assert.equal(await sendRaw(page, 'input', HOSTILE_MESSAGES), HOSTILE_MESSAGES.length);
    await until(() => dropped() >= droppedBefore + HOSTILE_MESSAGES.length, 'the agent to drop every hostile message', {
      deadlineMs: DEADLINE_MS,
      describe: () => ({ dropped: dropped() - droppedBefore, of: HOSTILE_MESSAGES.length }),
    });
    assert.equal(dropped() - droppedBefore, HOSTILE_MESSAGES.length, 'the agent refused more messages than were sent');
    assert.ok(agent.running(), 'the agent exited');

    // Still streaming, still connected, and input still works.
    await framesKeepDecoding(2);
    await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor();
    await page.locator('[data-testid="input-state"][data-ready="true"]').waitFor();
    const input = scene.layout.input;
    const clickedFrom = await clickAndExpect({ x: input.x + 311, y: input.y + 197 });
    // None of the hostile messages had an effect on the display.
    assert.deepEqual(scene.events.slice(from, clickedFrom), [], 'a hostile message reached the X display');
  });

  step('the technician locks the person\'s own keyboard and mouse: their clicks still land, and the lock is audited and undone', async () => {
    await page.getByTestId('lock-input').click();
    // Xvfb's own keyboard and mouse are what there is to lock.
    await page.locator('[data-testid="lock-input"][data-state="locked"]').waitFor({ timeout: DEADLINE_MS });
    await showsText(page, 'lock-state', /^Their keyboard and mouse are locked \(2 devices\); Ctrl\+Alt\+Shift\+Esc on their keyboard unlocks\.$/);
    const input = scene.layout.input;
    await clickAndExpect({ x: input.x + 30, y: input.y + 30 });
    // The person's bar says so, and how to undo it.
    const display = { ...process.env, DISPLAY: live.xvfb.display };
    const run = promisify(execFile);
    const barText = async () => {
      const { stdout: found } = await run('xdotool', ['search', '--name', '^Tether session$'], { env: display }).catch(() => ({ stdout: '' }));
      const id = found.trim().split('\n')[0];
      if (!id) return '';
      return (await run('xprop', ['-id', id, '_TETHER_BAR_TEXT'], { env: display }).catch(() => ({ stdout: '' }))).stdout;
    };
    await until(async () => (await barText()).includes('your keyboard and mouse are locked (Ctrl+Alt+Shift+Esc unlocks)'), 'the bar to say the lock', {
      deadlineMs: DEADLINE_MS,
      describe: barText,
    });
    await page.getByTestId('lock-input').click();
    await page.locator('[data-testid="lock-input"][data-state="unlocked"]').waitFor({ timeout: DEADLINE_MS });
    await showsText(page, 'lock-state', 'Unlocked: the technician unlocked the keyboard and mouse.');
    const { entries: locked } = await ok(live.server.url, 'GET', '/api/audit?action=session.input_locked', { token: live.auditorToken });
    assert.equal(locked.length, 1, JSON.stringify(locked));
    const { entries: unlocked } = await ok(live.server.url, 'GET', '/api/audit?action=session.input_unlocked', { token: live.auditorToken });
    assert.deepEqual(unlocked.map((entry) => entry.details.why), ['by_technician']);
  });

  step('the privacy screen hides the display from the room while the technician still sees the scene and clicks through; taking it away restores it; audited', async () => {
    const blocks = scene.layout.blocks.map((block) => ({ name: block.name, at: centreOf(block), rgb: rgbOf(block.rgb) }));
    await page.getByTestId('privacy-screen').click();
    await page.locator('[data-testid="privacy-screen"][data-state="on"]').waitFor({ timeout: DEADLINE_MS });
    await showsText(page, 'privacy-state', /^Their screen is hidden from the room \(1 monitor\); you still see it\. Ctrl\+Alt\+Shift\+Esc/);
    await page.locator('[data-testid="lock-input"][data-state="locked"]').waitFor({ timeout: DEADLINE_MS });
    // What the X server shows: black, with the screen's white words, and none of the scene.
    const shown = await readScreen(live.xvfb.display);
    const { black, white, other } = tally(shown);
    assert.ok(black > 0.9 && white > 0.001 && other === 0, `the display is not covered: ${JSON.stringify({ black, white, other })}`);
    assert.ok(blocks.every(({ at }) => shown.rgbAt(at.x, at.y).every((value) => value === 0 || value === 255)), 'a scene block shows through');
    // What the technician sees: the scene's windows, composed beneath the cover (bare desktop reads black there).
    let last = null;
    await until(
      async () => {
        last = await sampleVideo(page, [...blocks.map((block) => block.at), bare]);
        return last && blocks.every((block, i) => sameColour(last.colours[i], block.rgb)) && sameColour(last.colours[blocks.length], [0, 0, 0]);
      },
      'the picture to show the scene beneath the cover',
      { deadlineMs: DEADLINE_MS, everyMs: 250, describe: () => last?.colours },
    );
    const input = scene.layout.input;
    await clickAndExpect({ x: input.x + 60, y: input.y + 40 });
    await page.getByTestId('privacy-screen').click();
    await page.locator('[data-testid="privacy-screen"][data-state="off"]').waitFor({ timeout: DEADLINE_MS });
    await showsText(page, 'privacy-state', 'Their screen shows again: the technician took the privacy screen away.');
    await desktopShows('the display to show the desktop again');
    // The lock outlives the screen until the technician ends it.
    await page.locator('[data-testid="lock-input"][data-state="locked"]').waitFor({ timeout: DEADLINE_MS });
    await page.getByTestId('lock-input').click();
    await page.locator('[data-testid="lock-input"][data-state="unlocked"]').waitFor({ timeout: DEADLINE_MS });
    const audited = async (action) =>
      (await ok(live.server.url, 'GET', `/api/audit?action=${action}`, { token: live.auditorToken })).entries;
    assert.equal((await audited('session.privacy_shown')).length, 1);
    assert.deepEqual((await audited('session.privacy_removed')).map((entry) => entry.details.why), ['by_technician']);
  });

  step('a lock lapses by itself when the technician\'s page goes quiet, and the page says why once it wakes', async () => {
    await page.getByTestId('lock-input').click();
    await page.locator('[data-testid="lock-input"][data-state="locked"]').waitFor({ timeout: DEADLINE_MS });
    // The page's script stops (the debugger pauses it): no more heartbeats; the connection itself stays up.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Debugger.enable');
    await cdp.send('Debugger.pause');
    const lapsed = async () =>
      (await ok(live.server.url, 'GET', '/api/audit?action=session.input_unlocked', { token: live.auditorToken })).entries
        .some((entry) => entry.details.why === 'heartbeat_lost');
    try {
      await until(lapsed, 'the lock to lapse without heartbeats', { deadlineMs: DEADLINE_MS });
    } finally {
      await cdp.send('Debugger.resume');
      await cdp.detach();
    }
    await showsText(page, 'lock-state', "Unlocked: the technician's connection went quiet, so the keyboard and mouse were unlocked.");
  });

  step('ending the session from the page closes the connection on both sides, and takes a privacy screen away', async () => {
    await page.getByTestId('privacy-screen').click();
    await page.locator('[data-testid="privacy-screen"][data-state="on"]').waitFor({ timeout: DEADLINE_MS });
    assert.deepEqual((await readScreen(live.xvfb.display)).rgbAt(bare.x, bare.y), [0, 0, 0]);
    await page.getByTestId('end-session').click();
    await showsText(page, 'page-title', 'Targets');
    await until(
      () => page.evaluate(() => window.__tetherProbe.peers.every((peer) => peer.connectionState === 'closed')),
      'the page to close its peer connection',
      { deadlineMs: DEADLINE_MS },
    );
    const ending = (line) => line.includes('session ending') && line.includes(sessionId);
    await until(() => agent.output.some(ending), 'the agent to end the session', {
      deadlineMs: DEADLINE_MS,
      describe: () => agent.output.slice(-5),
    });
    assert.ok(agent.running(), 'the agent exited with the session');
    await desktopShows('the display to show the desktop once the session ended');
  });
});
