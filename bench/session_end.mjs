// The session-end latency benchmark: how soon both ends know a session is
// over, and how soon the picture stops, when it is ended (a) by the
// technician with the page's End session button and (b) by the person at
// the computer with the X of the agent's session bar.
//
// One real server, a technician in headless Chromium, and Tether's agent
// (`run --unattended`, so nobody is asked) on a private Xvfb whose picture a
// small ticking square keeps changing (bench/lib/ticker.mjs), so frames flow
// steadily. Every case opens a fresh session through Targets → Connect,
// waits for `connected` and for frames, ends it, and takes from the moment
// of the final click:
//   page ended   the controller page's connection-state `data-state="ended"`
//                (in the page, Date.now() in a MutationObserver);
//   agent ended  the agent's "Session ended: …" line on its stdout (Date.now()
//                in this process when the line arrives);
//   last frame   the last increase of the page's inbound-rtp framesDecoded
//                (getStats() polled in the page every 20 ms; stopped once it
//                has not increased for 500 ms after the click).
// Both clocks are the machine's wall clock. Each run does both cases; the
// order alternates. Writes bench/results/<date>-session-end-<host>.{md,json}.
// A command, not a test: it never fails on a number.
//
//   node bench/session_end.mjs [--runs 10] [--deadline-s 10] [--quiet-ms 500] [--tick-hz 30] [--out bench/results]

import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { LOOPBACK_WEBRTC_ARGS, launchBrowser } from '../e2e/lib/browser.mjs';
import { until } from './lib/procs.mjs';
import { quantile } from './lib/report.mjs';
import {
  agentOnline, barEndSpot, connectFromTargets, failuresSection, keepPeerConnections, loadNow, machineInfo,
  machineSection, prepareServer, sessionBar, sessionBarId, startAgent, toTargets, writeResults, xdotool,
} from './lib/session.mjs';
import { startTicker } from './lib/ticker.mjs';
import { startXvfb } from './lib/xvfb.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
/** The issue's target: the session ends on both sides within 1 s. */
const TARGET_MS = 1000;
const CASES = ['technician', 'person'];
const CASE_LABEL = {
  technician: 'technician ends (End session on the page)',
  person: "person ends (X on the agent's session bar)",
};
const MEASURES = [
  ['pageEndedMs', 'page ended'],
  ['agentEndedMs', 'agent ended'],
  ['lastFrameMs', 'last frame'],
];
/** getStats() polling interval in the page. */
const POLL_MS = 20;
/** Frames decoded after arming before a session counts as streaming. */
const FLOWING_FRAMES = 10;

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    // Each wait after the click (page, agent line, frames stopping) gives up after this.
    'deadline-s': { type: 'string', default: '10' },
    'quiet-ms': { type: 'string', default: '500' },
    'tick-hz': { type: 'string', default: '30' },
    out: { type: 'string', default: path.join(benchDir, 'results') },
  },
});
const options = {
  runs: Number(args.runs),
  deadlineMs: 1000 * Number(args['deadline-s']),
  quietMs: Number(args['quiet-ms']),
  tickHz: Number(args['tick-hz']),
  pollMs: POLL_MS,
};
if (!(options.runs >= 1) || !(options.deadlineMs > 0) || !(options.quietMs > 0) || !(options.tickHz > 0)) {
  throw new Error('--runs, --deadline-s, --quiet-ms and --tick-hz must be positive');
}

const log = (...parts) => console.error(new Date().toISOString().slice(11, 19), ...parts);
const firstLine = (error) => String(error?.message ?? error).split('\n')[0];

/**
 * In the page: starts watching the newest RTCPeerConnection and the
 * connection state. Polls getStats() every `pollMs` for inbound-rtp video
 * framesDecoded (time of each increase), notes every data-state the
 * connection-state element takes (and when it leaves the page), the peer's
 * connectionState, and the click on End session. All times Date.now().
 */
function armEndWatch({ pollMs }) {
  const old = window.__benchEnd;
  if (old) {
    clearInterval(old.timer);
    old.observer.disconnect();
    document.removeEventListener('click', old.onClick, true);
  }
  const pc = window.__benchPeers?.at(-1) ?? null;
  const data = {
    armedAt: Date.now(),
    peers: window.__benchPeers?.length ?? 0,
    clickAt: null,
    states: [],
    leftAt: null,
    stateText: null,
    peerStates: [],
    frames: null,
    firstFrames: null,
    firstSampleAt: null,
    increases: 0,
    lastIncreaseAt: null,
    polls: 0,
    pollErrors: 0,
    lastPollError: null,
    lastPollAt: null,
  };
  const element = () => document.querySelector('[data-testid="connection-state"]');
  let state = element()?.getAttribute('data-state') ?? null;
  data.states.push({ state, at: data.armedAt });
  const noteState = (value, at) => {
    if (value === state) return;
    state = value;
    data.states.push({ state: value, at });
  };
  const observer = new MutationObserver((records) => {
    const at = Date.now();
    // Attribute changes first: an element may have changed and left in the same task.
    for (const record of records) {
      if (record.type === 'attributes' && record.target.getAttribute?.('data-testid') === 'connection-state') {
        noteState(record.target.getAttribute('data-state'), at);
        data.stateText = record.target.textContent.trim();
      }
    }
    const now = element();
    if (now) {
      noteState(now.getAttribute('data-state'), at);
      data.stateText = now.textContent.trim();
    } else if (data.leftAt === null) {
      data.leftAt = at;
    }
  });
  observer.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
  const onClick = (event) => {
    if (data.clickAt === null && event.target.closest?.('[data-testid="end-session"]')) data.clickAt = Date.now();
  };
  document.addEventListener('click', onClick, true);
  let busy = false;
  let peerState = pc?.connectionState ?? null;
  if (pc) data.peerStates.push({ state: peerState, at: data.armedAt });
  const poll = async () => {
    if (busy || !pc) return;
    busy = true;
    try {
      const report = await pc.getStats();
      let frames = null;
      report.forEach((stats) => {
        if (stats.type === 'inbound-rtp' && stats.kind === 'video') frames = (frames ?? 0) + (stats.framesDecoded ?? 0);
      });
      const at = Date.now();
      if (frames !== null) {
        if (data.firstFrames === null) {
          data.firstFrames = frames;
          data.firstSampleAt = at;
        }
        if (data.frames !== null && frames > data.frames) {
          data.increases += 1;
          data.lastIncreaseAt = at;
        }
        if (data.frames === null || frames > data.frames) data.frames = frames;
      }
      data.polls += 1;
      data.lastPollAt = at;
    } catch (error) {
      data.pollErrors += 1;
      data.lastPollError = String(error);
      data.lastPollAt = Date.now();
    } finally {
      busy = false;
      if (pc.connectionState !== peerState) {
        peerState = pc.connectionState;
        data.peerStates.push({ state: peerState, at: Date.now() });
      }
    }
  };
  const timer = setInterval(poll, pollMs);
  window.__benchEnd = { data, timer, observer, onClick };
  return pc !== null;
}

/** In the page: what the watch has seen, with the page's time now. */
const readEndWatch = () => ({ ...window.__benchEnd?.data, now: Date.now() });

/** In the page: stops the watch. */
function disarmEndWatch() {
  const watch = window.__benchEnd;
  if (!watch) return;
  clearInterval(watch.timer);
  watch.observer.disconnect();
  document.removeEventListener('click', watch.onClick, true);
  window.__benchEnd = null;
}

/** Resolves to `value` or, after `ms`, to null (a wait that gave up is recorded, not thrown). */
const orNull = (promise) => promise.catch(() => null);

/** One case: a fresh session, ended by `kind`; resolves to the figures. */
async function measureCase(kind, { page, server, agentId, agent, xvfb }) {
  const deadline = options.deadlineMs;
  // The previous session's bar has left the display (so the one found next is this session's).
  await until(async () => (await sessionBarId(xvfb.display)) === null, 'the previous session bar to leave', 20_000);
  const sessionId = await connectFromTargets(page, server.url, agentId);
  if (!(await page.evaluate(armEndWatch, { pollMs: options.pollMs }))) throw new Error('the page has no RTCPeerConnection');
  await until(async () => (await page.evaluate(readEndWatch)).increases >= FLOWING_FRAMES, `${FLOWING_FRAMES} frames decoded`, 20_000);
  const bar = await sessionBar(xvfb.display);
  const before = await page.evaluate(readEndWatch);
  // The frame rate just before the end (the resolution of "last frame").
  const fpsBefore = before.lastIncreaseAt > before.firstSampleAt
    ? (before.frames - before.firstFrames) / ((before.lastIncreaseAt - before.firstSampleAt) / 1000) : null;

  // Listen before ending: the agent's sentence (stdout) and its log line (stderr).
  const agentLine = orNull(agent.waitForLine(/^Session ended: (.*)$/, deadline).then((match) => ({ at: Date.now(), line: match[0] })));
  const agentLog = orNull(agent.waitForLine(new RegExp(`session ending.*${sessionId}|${sessionId}.*session ending`), deadline).then(() => Date.now()));
  const figures = { kind, sessionId, fpsBefore };
  let clickAt;
  if (kind === 'technician') {
    await page.bringToFront();
    const before = Date.now();
    await page.getByTestId('end-session').click();
    const after = Date.now();
    const inPage = (await page.evaluate(readEndWatch)).clickAt;
    clickAt = inPage ?? after;
    figures.clickSource = inPage ? 'page click event' : 'after Playwright click';
    figures.playwrightClickMs = after - before;
  } else {
    const spot = barEndSpot(bar);
    await xdotool(xvfb.display, 'mousemove', String(spot.x), String(spot.y));
    // The bar acts on the button press: time from `xdotool mousedown` having returned.
    const spawned = Date.now();
    await xdotool(xvfb.display, 'mousedown', '1');
    clickAt = Date.now();
    figures.clickSource = 'xdotool mousedown returned';
    figures.xdotoolMs = clickAt - spawned;
    figures.barSpot = spot;
  }
  figures.clickAt = clickAt;

  const endedAt = (watch) => watch.states.find((entry) => entry.state === 'ended' && entry.at >= watch.armedAt)?.at ?? null;
  const pageEnded = orNull(until(async () => {
    const watch = await page.evaluate(readEndWatch);
    return endedAt(watch) ?? (watch.leftAt !== null && kind === 'technician' && watch.now - watch.leftAt > 200 ? 'left' : null);
  }, 'the page to say ended', deadline));
  const framesStopped = orNull(until(async () => {
    const watch = await page.evaluate(readEndWatch);
    return watch.now - Math.max(watch.lastIncreaseAt ?? 0, clickAt) >= options.quietMs && watch;
  }, 'the frames to stop', deadline));
  // How long the bar stays on the display (polled with xdotool, a few ms a look; an upper bound).
  const barGone = orNull(until(async () => (await sessionBarId(xvfb.display)) === null && Date.now(), 'the bar to leave', deadline));
  const [pageResult, stopped, line, logAt, barGoneAt] = await Promise.all([pageEnded, framesStopped, agentLine, agentLog, barGone]);
  if (kind === 'person') await xdotool(xvfb.display, 'mouseup', '1').catch(() => {});
  const watch = await page.evaluate(readEndWatch);
  await page.evaluate(disarmEndWatch).catch(() => {});

  const pageAt = endedAt(watch);
  figures.pageEndedMs = pageAt === null ? null : pageAt - clickAt;
  figures.pageLeftMs = watch.leftAt === null ? null : watch.leftAt - clickAt;
  figures.pageEndedSeen = pageAt !== null ? 'data-state=ended' : pageResult === 'left' ? 'page left the session without showing ended' : 'not within the deadline';
  figures.pageStateText = watch.stateText;
  figures.pageStates = watch.states.map(({ state, at }) => ({ state, ms: at - clickAt }));
  figures.peerStates = watch.peerStates.map(({ state, at }) => ({ state, ms: at - clickAt }));
  figures.agentEndedMs = line ? line.at - clickAt : null;
  figures.agentLine = line?.line ?? null;
  figures.agentSessionEndingMs = logAt === null ? null : logAt - clickAt;
  figures.lastFrameMs = stopped && watch.lastIncreaseAt !== null ? watch.lastIncreaseAt - clickAt : null;
  figures.framesStillFlowing = !stopped;
  figures.framesDecoded = watch.frames;
  figures.polls = watch.polls;
  figures.pollErrors = watch.pollErrors;
  figures.lastPollError = watch.lastPollError;
  figures.barGoneMs = barGoneAt === null ? null : barGoneAt - clickAt;
  return figures;
}

const fmtMs = (value) => (value === null || value === undefined || Number.isNaN(value) ? '–' : String(Math.round(value)));

/** Per case and measure: runs, median, p90, max, and how many were within the target. */
function summarize(runs) {
  const summary = {};
  for (const kind of CASES) {
    const measured = runs.map((run) => run.cases[kind]).filter(Boolean);
    summary[kind] = {};
    for (const [key] of [...MEASURES, ['agentSessionEndingMs'], ['barGoneMs'], ['fpsBefore']]) {
      const values = measured.map((figures) => figures[key]).filter((v) => v !== null && v !== undefined && Number.isFinite(v));
      const missing = measured.length - values.length;
      summary[kind][key] = {
        cases: measured.length,
        values: values.length,
        missing,
        median: quantile(values, 0.5),
        p90: quantile(values, 0.9),
        max: values.length ? Math.max(...values) : null,
        within: values.filter((v) => v <= TARGET_MS).length,
      };
    }
  }
  return summary;
}

function verdict(figure) {
  if (!figure.values) return 'no data';
  const all = figure.within === figure.cases;
  if (figure.p90 <= TARGET_MS && all) return `**yes** (all ${figure.cases})`;
  if (figure.p90 <= TARGET_MS) return `p90 yes; ${figure.within}/${figure.cases} runs within`;
  if (figure.median <= TARGET_MS) return `median only; ${figure.within}/${figure.cases} runs within`;
  return `**no** (${figure.within}/${figure.cases} runs within)`;
}

function renderMarkdown({ machine, options: opts, runs, failures, summary, started, finished }) {
  const notes = [
    machine.agentBuild !== 'release' || machine.serverBuild !== 'release' ? `${machine.agentBuild} build` : null,
    opts.runs < 5 ? 'smoke run' : null,
  ].filter(Boolean);
  const lines = [];
  lines.push(`# Session-end latency — ${machine.date} on ${machine.host}${notes.length ? ` (${notes.join(', ')})` : ''}`, '');
  lines.push(`Produced by \`node bench/session_end.mjs --runs ${opts.runs}\` (what \`bash bench/session_end.sh\` runs; see bench/README.md).`);
  lines.push('Each case opens a fresh session (Targets → Connect, connected, frames flowing) and ends it; every figure is');
  lines.push('milliseconds from the final click to: **page ended** — the controller page\'s connection state says `ended`;');
  lines.push('**agent ended** — the agent\'s "Session ended: …" line reaches this process; **last frame** — the last increase');
  lines.push(`of the page's decoded-frame count (getStats every ${opts.pollMs} ms; negative = before the click).`);
  lines.push(`${runs.length} run(s), each both cases, the order alternating. Target (the issue): the session ends on both sides within ${TARGET_MS} ms.`, '');
  lines.push('| case | measure | median (ms) | p90 (ms) | max (ms) | runs measured | within 1 s? |');
  lines.push('|---|---|---:|---:|---:|---:|---|');
  for (const kind of CASES) {
    for (const [key, label] of MEASURES) {
      const figure = summary[kind][key];
      const missing = figure.missing ? ` (${figure.missing} not seen)` : '';
      lines.push(`| ${CASE_LABEL[kind]} | ${label} | ${fmtMs(figure.median)} | ${fmtMs(figure.p90)} | ${fmtMs(figure.max)} | ${figure.values}/${figure.cases}${missing} | ${verdict(figure)} |`);
    }
  }
  lines.push('');
  // Which figures meet the target, and the slowest single figure.
  const figures = CASES.flatMap((kind) => MEASURES.map(([key, label]) => ({ kind, key, label, ...summary[kind][key] })));
  const meeting = figures.filter((f) => f.values && f.values === f.cases && f.within === f.cases);
  const slowest = figures.filter((f) => f.max !== null).sort((a, b) => b.max - a.max)[0];
  const missed = figures.filter((f) => !meeting.includes(f)).map((f) => `${f.kind} ${f.label} (${f.within}/${f.cases} within, p90 ${fmtMs(f.p90)} ms)`);
  lines.push(meeting.length === figures.length
    ? `**All ${figures.length} figures meet "within 1 s" in every run**, median and p90 alike; the slowest single figure was ` +
      `${fmtMs(slowest?.max)} ms (${slowest?.kind} ends, ${slowest?.label}).`
    : `Meet "within 1 s" in every run: ${meeting.map((f) => `${f.kind} ${f.label}`).join(', ') || 'none'}. ` +
      `Do not: ${missed.join('; ')}.`);
  lines.push('');
  const extra = (kind, key) => `${fmtMs(summary[kind][key].median)} / ${fmtMs(summary[kind][key].p90)}`;
  lines.push('Also measured (median / p90, ms): the agent\'s own log line "session ending" (its session torn down) — ' +
    `technician ${extra('technician', 'agentSessionEndingMs')}, person ${extra('person', 'agentSessionEndingMs')}; ` +
    `the session bar gone from the display (polled with xdotool, an upper bound) — technician ${extra('technician', 'barGoneMs')}, ` +
    `person ${extra('person', 'barGoneMs')}. Frames arrived at a median ${fmtMs(summary.technician.fpsBefore.median)} / ` +
    `${fmtMs(summary.person.fpsBefore.median)} fps (technician / person case) before the end, one every ` +
    `${fmtMs(1000 / summary.person.fpsBefore.median)} ms or so: the resolution of "last frame".`, '');
  lines.push('### Per run', '');
  lines.push('| run | first | technician: page / agent / last frame (ms) | person: page / agent / last frame (ms) | load (1 min) |');
  lines.push('|---:|---|---|---|---:|');
  const triple = (figures) => (figures ? [figures.pageEndedMs, figures.agentEndedMs, figures.lastFrameMs].map(fmtMs).join(' / ') : 'failed');
  for (const run of runs) {
    lines.push(`| ${run.run} | ${run.order[0]} | ${triple(run.cases.technician)} | ${triple(run.cases.person)} | ${run.load?.toFixed(2) ?? '–'} |`);
  }
  lines.push('');
  for (const kind of CASES) {
    const said = [...new Set(runs.map((run) => run.cases[kind]?.agentLine).filter(Boolean))];
    const shown = [...new Set(runs.map((run) => run.cases[kind]?.pageStateText).filter(Boolean))];
    if (said.length) lines.push(`When the ${kind} ends, the agent says ${said.map((line) => `"${line}"`).join(' / ')}; the page says ${shown.map((text) => `"${text}"`).join(' / ')}.`);
  }
  lines.push('');
  lines.push(...machineSection(machine, started, finished));
  lines.push('## Method and limits', '');
  lines.push(
    'One machine, loopback only (server on 127.0.0.1, agent `run --unattended --webrtc-bind 127.0.0.1:0`, headless ' +
      'Debian Chromium with the loopback WebRTC flags), so these are the costs of the three programs and their ' +
      'messages, not of a network: on a real network add one server round trip or so per hop. The agent streams a ' +
      `private 1280×720 Xvfb on which a ${opts.tickHz} Hz ticking square keeps the picture changing, so frames arrive ` +
      `about every ${Math.round(1000 / opts.tickHz)} ms (an idle screen would give one refresh a second and no usable "last frame").`,
  );
  lines.push('');
  lines.push(
    '**Clocks.** Page times are `Date.now()` in the page, the agent line\'s time is `Date.now()` in this Node process ' +
      'when the line arrives on the agent\'s stdout pipe (the agent flushes each line); both are the machine\'s wall clock. ' +
      '**Technician case:** time zero is the End session button\'s `click` event, seen by a capture listener in the page ' +
      '(there is no confirmation on the toolbar\'s End session; the confirmation dialog belongs to the session lists). ' +
      'The page ends the session itself on that click (its state becomes `ended`, it closes its peer connection and goes ' +
      'back to Targets), so its "page ended" and "last frame" are the page\'s own reaction (a negative "last frame" says ' +
      'only that nothing was decoded after the click, not when the agent stopped sending); the agent\'s line is the ' +
      'figure that crosses the system (page → server → agent), and the agent stops streaming with it (its "session ' +
      'ending" log line comes within a few ms of it). **Person case:** time zero is `xdotool mousedown 1` ' +
      'having returned, on the bar\'s X (x + width − 10, y + 12), which the bar acts on at the press; the press reaches ' +
      'the X server a little before that (the xdotool run itself is recorded in the JSON as `xdotoolMs`). The path is ' +
      'bar → agent → server → page.',
  );
  lines.push('');
  lines.push(
    `**Last frame.** The page polls \`getStats()\` on the session's peer connection every ${opts.pollMs} ms and keeps the ` +
      'time of the last poll that saw inbound-rtp `framesDecoded` grow; once it has not grown for ' +
      `${opts.quietMs} ms after the click, that time is the last frame (so it is late by up to one poll interval plus the ` +
      'getStats call, and a frame decoded just before the click can show as a few ms after it). "Page ended" is when a ' +
      'MutationObserver sees `data-state="ended"` on the connection-state element. Waits give up after ' +
      `${opts.deadlineMs / 1000} s; a figure not seen counts against the target.`,
  );
  lines.push('');
  lines.push(
    `**Noise.** ${machine.nproc} cores shared by Chromium (software decoding), the agent, the server, this process and possibly other ` +
      'builds; the load average is in the header. Medians and the 90th percentile (linear interpolation over runs) are ' +
      'given; with 10 runs the p90 lies between the two slowest.' +
      (machine.agentBuild === 'release' && machine.serverBuild === 'release' ? '' : ' A debug build is slower than a release build in every step measured here.'),
  );
  lines.push('');
  lines.push(...failuresSection('Cases that failed', failures));
  return lines.join('\n');
}

async function main() {
  const machine = machineInfo();
  const started = new Date().toISOString();
  const workDir = await mkdtemp(path.join(tmpdir(), 'tether-bench-session-end-'));
  const runs = [];
  const failures = [];
  let server = null;
  let xvfb = null;
  let ticker = null;
  let agent = null;
  let browser = null;
  try {
    const configPath = path.join(workDir, 'agent.json');
    const prepared = await prepareServer(configPath, 'bench session end');
    server = prepared.server;
    const { agentId } = prepared;
    xvfb = await startXvfb(1280, 720);
    ticker = await startTicker(xvfb.display, { hz: options.tickHz });
    const startOurAgent = async () => {
      agent = startAgent(configPath, xvfb.display, { TETHER_FILES_DIR: path.join(workDir, 'incoming') });
      await agentOnline(server.url, agentId);
    };
    await startOurAgent();
    browser = await launchBrowser({ extraArgs: LOOPBACK_WEBRTC_ARGS });
    browser.context.setDefaultTimeout(20_000);
    await browser.context.addInitScript(keepPeerConnections);
    const page = await browser.context.newPage();
    const pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await toTargets(page, server.url);
    log(`server ${server.url}, agent pid ${agent.pid} on ${xvfb.display} (${machine.agentBuild} build); ${options.runs} run(s)`);
    for (let run = 1; run <= options.runs; run += 1) {
      const order = run % 2 === 1 ? [...CASES] : [...CASES].reverse();
      log(`run ${run}/${options.runs}: ${order.join(' first, then ')}`);
      const result = { run, order, cases: {}, load: null };
      for (const kind of order) {
        try {
          if (!agent.running()) {
            log('  the agent had exited; starting it again');
            await startOurAgent();
          }
          const figures = await measureCase(kind, { page, server, agentId, agent, xvfb });
          result.cases[kind] = figures;
          log(`  ${kind}: page ended ${fmtMs(figures.pageEndedMs)} ms (${figures.pageEndedSeen}), agent ended ${fmtMs(figures.agentEndedMs)} ms, ` +
            `last frame ${fmtMs(figures.lastFrameMs)} ms, agent log ${fmtMs(figures.agentSessionEndingMs)} ms, bar gone ${fmtMs(figures.barGoneMs)} ms` +
            `${figures.agentLine ? ` — "${figures.agentLine}"` : ''}`);
        } catch (error) {
          log(`  ${kind} failed: ${error.message}\n${agent.output.slice(-10).join('\n')}`);
          failures.push({ run, kind, error: error.message });
          await page.evaluate(disarmEndWatch).catch(() => {});
          await xdotool(xvfb.display, 'mouseup', '1').catch(() => {});
          await page.goto(`${server.url}/targets`).catch(() => {});
        }
      }
      result.load = loadavg()[0];
      runs.push(result);
    }
    if (pageErrors.length) log(`page errors: ${pageErrors.join('; ')}`);
  } finally {
    await browser?.close();
    await agent?.stop();
    ticker?.stop();
    await xvfb?.stop();
    await server?.stop();
    await rm(workDir, { recursive: true, force: true });
  }
  machine.loadEnd = loadNow();
  machine.tickerErrors = ticker?.errors() ?? null;
  const finished = new Date().toISOString();
  const summary = summarize(runs);
  const results = { machine, options, targetMs: TARGET_MS, started, finished, summary, runs, failures };
  const written = await writeResults(args.out, 'session-end', results, renderMarkdown(results));
  log(`wrote ${written}`);
  for (const kind of CASES) {
    log(`${kind}: ${MEASURES.map(([key, label]) => `${label} median ${fmtMs(summary[kind][key].median)} p90 ${fmtMs(summary[kind][key].p90)} ms`).join('; ')}`);
  }
  if (runs.every((run) => Object.keys(run.cases).length === 0)) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
