// The known X11 scene (agent/examples/x11_scene.rs) on a test's own X
// display: solid colour blocks at fixed places and an input window that
// logs the button and key events it receives, one JSON line each.

import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { cargoTargetDir } from './server.mjs';
import { until } from './wait.mjs';

/** The scene binary: `TETHER_SCENE_BIN`, else the debug example in Cargo's target dir. */
export function sceneBinary() {
  return process.env.TETHER_SCENE_BIN ?? path.join(cargoTargetDir(), 'debug', 'examples', 'x11_scene');
}

/**
 * Starts the scene on `display`. Resolves, once it is drawn and its input
 * window has the keyboard focus, to `{ layout, events, waitFor, stop,
 * output }`: `layout` is the scene's own description (its `ready` line:
 * `width`, `height`, `blocks` and `input`, each block `{ name, x, y, width,
 * height, rgb }`), `events` every input event logged so far, and
 * `waitFor(predicate, what)` resolves to the first logged event from index
 * `from` on that matches.
 */
export async function startScene(display, { deadlineMs = 20_000 } = {}) {
  const binary = sceneBinary();
  await access(binary).catch(() => {
    throw new Error(`scene binary not found at ${binary}: build it with \`cargo build -p tether-agent --examples\` or set TETHER_SCENE_BIN`);
  });
  const child = spawn(binary, [], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DISPLAY: display } });
  const output = [];
  const events = [];
  let layout = null;
  createInterface({ input: child.stderr }).on('line', (line) => output.push(`[scene stderr] ${line}`));
  createInterface({ input: child.stdout }).on('line', (line) => {
    output.push(`[scene] ${line}`);
    if (process.env.TETHER_E2E_VERBOSE) console.error(`scene: ${line}`);
    let parsed;
    try {
      parsed = JSON.parse(line);
    } catch {
      return; // kept in `output` for the failure message
    }
    if (parsed.event === 'ready') layout = parsed;
    else events.push(parsed);
  });
  const exited = new Promise((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
  });
  let ended = null;
  exited.then((result) => { ended = result; });
  const running = () => child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (running()) process.kill(child.pid, 'SIGTERM');
    await exited;
  };

  const waitFor = (predicate, what, { from = 0, deadlineMs: within = 15_000 } = {}) =>
    until(
      () => {
        if (ended) throw new Error(`the scene exited (${JSON.stringify(ended)}) while waiting for ${what}\n${output.join('\n')}`);
        return events.slice(from).find(predicate);
      },
      what,
      { deadlineMs: within, describe: () => events.slice(from) },
    );

  try {
    await until(
      () => {
        if (ended) throw new Error(`the scene exited early (${JSON.stringify(ended)})\n${output.join('\n')}`);
        return layout;
      },
      'the scene to be drawn',
      { deadlineMs },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { layout, events, waitFor, stop, output };
}

/** The centre of a scene block, in screen pixels. */
export function centreOf(block) {
  return { x: block.x + Math.floor(block.width / 2), y: block.y + Math.floor(block.height / 2) };
}

/** `0xRRGGBB` as `[r, g, b]`. */
export function rgbOf(value) {
  return [(value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff];
}
