// The file transfer benchmark: one real server, a technician in headless
// Chromium, and Tether's agent (`run --unattended`, so nobody is asked) on a
// private Xvfb. Each run connects a session (Targets → Connect) and moves
// one file of random bytes both ways through the controller page's Files
// panel, and the same file both ways through a plain HTTP server in this
// process (the reference), in the same browser; the order alternates
// between runs. Every transfer is checked by SHA-256. /proc gives the
// agent's CPU time and peak memory during each Tether transfer. Writes
// bench/results/<date>-transfer-<host>.{md,json}. A command, not a test:
// it never fails on a number.
//
//   node bench/transfer.mjs [--runs 3] [--size-mib 256] [--deadline-s <per transfer>] [--out bench/results]

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { LOOPBACK_WEBRTC_ARGS, launchBrowser } from '../e2e/lib/browser.mjs';
import { cpuSeconds, peakRssKiB } from './lib/procs.mjs';
import { median } from './lib/report.mjs';
import {
  agentOnline, connectFromTargets, failuresSection, loadNow, machineInfo, machineSection, prepareServer, startAgent,
  writeResults,
} from './lib/session.mjs';
import { startXvfb } from './lib/xvfb.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const MiB = 1024 * 1024;
/** The test file is written, and hashed, in pieces of this size. */
const PIECE = 4 * MiB;
const DIRECTIONS = ['download', 'upload'];

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    'size-mib': { type: 'string', default: '256' },
    // Per transfer; the default allows 0.5 MiB/s (a debug build) plus a minute.
    'deadline-s': { type: 'string' },
    out: { type: 'string', default: path.join(benchDir, 'results') },
  },
});
const options = {
  runs: Number(args.runs),
  sizeMiB: Number(args['size-mib']),
};
if (!(options.runs >= 1) || !(options.sizeMiB > 0)) throw new Error('--runs and --size-mib must be positive');
const sizeBytes = Math.round(options.sizeMiB * MiB);
const deadlineMs = 1000 * Number(args['deadline-s'] ?? 60 + 2 * options.sizeMiB);

const log = (...parts) => console.error(new Date().toISOString().slice(11, 19), ...parts);

/** Writes `bytes` random bytes to `file` in 4 MiB pieces; resolves to their SHA-256 (hex). */
async function writeRandomFile(file, bytes) {
  const hash = createHash('sha256');
  const handle = await open(file, 'w');
  try {
    for (let written = 0; written < bytes; ) {
      const piece = randomBytes(Math.min(PIECE, bytes - written));
      hash.update(piece);
      await handle.write(piece);
      written += piece.length;
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/** The SHA-256 (hex) of `file`, read as a stream. */
async function sha256File(file) {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file, { highWaterMark: PIECE }), hash);
  return hash.digest('hex');
}

/** Resets a process's peak RSS (VmHWM) to its current RSS; false where the kernel does not allow it. */
async function resetPeakRss(pid) {
  try {
    await writeFile(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

async function rssKiB(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = status.match(/^VmRSS:\s+(\d+) kB/m);
  return match ? Number(match[1]) : null;
}

/**
 * The reference: a plain HTTP server on 127.0.0.1:0 in this process.
 * `GET /` a page with a download link and a file input, `GET /file` the
 * test file (attachment), `POST /upload` the request body streamed to a
 * file in `uploadDir`. Resolves to `{ url, uploaded(), stop }`.
 */
async function startReferenceServer(sourceFile, name, uploadDir) {
  let lastUpload = null;
  const page = `<!doctype html><meta charset="utf-8"><title>reference</title>
<a id="file" href="/file" download="${name}">${name}</a>
<input id="pick" type="file">`;
  const server = createServer((request, response) => {
    const fail = (error) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(String(error));
    };
    if (request.method === 'GET' && request.url === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      response.end(page);
    } else if (request.method === 'GET' && request.url === '/file') {
      response.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(sizeBytes),
        'content-disposition': `attachment; filename="${name}"`,
        'cache-control': 'no-store',
      });
      pipeline(createReadStream(sourceFile, { highWaterMark: PIECE }), response).catch(() => {});
    } else if (request.method === 'POST' && request.url === '/upload') {
      const target = path.join(uploadDir, `upload-${Date.now()}.bin`);
      pipeline(request, createWriteStream(target)).then(async () => {
        lastUpload = target;
        const { size } = await stat(target);
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ size }));
      }, fail);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    uploaded: () => lastUpload,
    stop: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}

/** Starts sampling the page's JS heap (`performance.memory`) every 100 ms. */
const startHeapSampler = (page) =>
  page.evaluate(() => {
    const used = () => performance.memory?.usedJSHeapSize ?? null;
    clearInterval(window.__benchHeapTimer);
    window.__benchHeapPeak = used();
    window.__benchHeapTimer = setInterval(() => {
      window.__benchHeapPeak = Math.max(window.__benchHeapPeak ?? 0, used() ?? 0) || null;
    }, 100);
  }).catch(() => {});

/** Stops the sampler; resolves to the peak in MiB (null if the page has no `performance.memory`). */
const stopHeapSampler = (page) =>
  page.evaluate(() => {
    clearInterval(window.__benchHeapTimer);
    const peak = Math.max(window.__benchHeapPeak ?? 0, performance.memory?.usedJSHeapSize ?? 0);
    return peak ? peak / (1024 * 1024) : null;
  }).catch(() => null);

/**
 * Starts recording, in the page, when each transfer row's `data-state`
 * changes (Date.now(), to compare with this process's clock).
 */
const startStateLog = (page) =>
  page.evaluate(() => {
    window.__benchStates = [];
    if (window.__benchStateObserver) return;
    const seen = new WeakMap();
    const note = () => {
      for (const row of document.querySelectorAll('[data-testid="transfer"]')) {
        const state = row.getAttribute('data-state');
        if (seen.get(row) === state) continue;
        seen.set(row, state);
        window.__benchStates.push({ name: row.dataset.name, direction: row.dataset.direction, state, at: Date.now() });
      }
    };
    // When the click on Download actually reaches the page.
    document.addEventListener('click', (event) => {
      const button = event.target.closest?.('[data-testid="files-download"]');
      const entry = button?.closest('[data-testid="files-entry"]');
      if (entry) window.__benchStates.push({ name: entry.dataset.name, direction: 'from', state: 'clicked', at: Date.now() });
    }, true);
    window.__benchStateObserver = new MutationObserver(note);
    window.__benchStateObserver.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
    note();
  }).catch(() => {});

/** When the transfer `direction`/`name` row last entered each state since `startStateLog`, in ms since `since`. */
const stateTimes = async (page, direction, name, since) => {
  const log_ = await page.evaluate(() => window.__benchStates ?? []).catch(() => []);
  const times = {};
  for (const entry of log_) {
    if (entry.direction === direction && entry.name === name) times[entry.state] = (entry.at - since) / 1000;
  }
  return times;
};

/**
 * Waits until transfer `row` reaches a final state; resolves to
 * `{ state, text }`.
 */
async function settled(row, ms) {
  await row
    .locator('xpath=self::*[@data-state="done" or @data-state="failed" or @data-state="cancelled" or @data-state="interrupted"]')
    .waitFor({ timeout: ms });
  return { state: await row.getAttribute('data-state'), text: (await row.getByTestId('transfer-text').textContent())?.trim() };
}

/** Removes what the page kept in its origin's private file system (finished downloads). */
const clearPrivateFiles = (page) =>
  page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    for await (const name of root.keys()) await root.removeEntry(name, { recursive: true });
  }).catch((error) => log(`  clearing the private file system: ${error.message.split('\n')[0]}`));

/** Runs `transfer` while watching the agent: CPU seconds, peak RSS and RSS before, the page's JS heap. */
async function watched(agentPid, page, transfer) {
  const rssBefore = await rssKiB(agentPid);
  const peakReset = await resetPeakRss(agentPid);
  await startHeapSampler(page);
  const cpuBefore = await cpuSeconds(agentPid);
  const result = await transfer();
  const cpuAfter = await cpuSeconds(agentPid);
  const peak = await peakRssKiB(agentPid);
  return {
    ...result,
    agentCpuS: cpuAfter - cpuBefore,
    agentRssBeforeMiB: rssBefore / 1024,
    agentPeakRssMiB: peak / 1024,
    agentPeakIsPerTransfer: peakReset,
    pageHeapPeakMiB: await stopHeapSampler(page),
  };
}

/** This process's CPU seconds (the reference server lives here, with Playwright's client). */
const ownCpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

/** Tether, computer → browser: Browse, Download, until the browser's download is complete. */
async function tetherDownload({ page, name, sourceHash, agentPid }) {
  const entry = page.locator(`[data-testid="files-entry"][data-name=${JSON.stringify(name)}]`);
  if (!(await entry.isVisible().catch(() => false))) {
    await page.getByTestId('files-browse').click();
    await entry.waitFor({ timeout: 30_000 });
  }
  const rows = page.locator(`[data-testid="transfer"][data-direction="from"][data-name=${JSON.stringify(name)}]`);
  const row = rows.nth(await rows.count());
  await startStateLog(page);
  let clickedAt = 0;
  const measured = await watched(agentPid, page, async () => {
    const downloading = page.waitForEvent('download', { timeout: deadlineMs });
    const started = performance.now();
    clickedAt = Date.now();
    await entry.getByTestId('files-download').click();
    const file = await Promise.race([
      downloading.then(async (download) => {
        const saved = await download.path();
        const failure = await download.failure();
        if (failure) throw new Error(`the browser's download failed: ${failure}`);
        return { download, saved };
      }),
      // A transfer that fails never becomes a download: say why at once.
      settled(row, deadlineMs).then(({ state, text }) => {
        if (state === 'done') return new Promise(() => {});
        throw new Error(`the Tether download ended ${state}: ${text}`);
      }),
    ]);
    return { seconds: (performance.now() - started) / 1000, ...file };
  });
  const { download, saved, ...figures } = measured;
  const hashOk = (await sha256File(saved)) === sourceHash;
  await download.delete();
  const { text } = await settled(row, 10_000);
  const states = await stateTimes(page, 'from', name, clickedAt);
  await clearPrivateFiles(page);
  return { ...figures, hashOk, text, states };
}

/** Tether, browser → computer: the file picked, until its row says done (the agent checked its SHA-256). */
async function tetherUpload({ page, sourceFile, name, sourceHash, agentPid, incoming }) {
  const rows = page.locator(`[data-testid="transfer"][data-direction="to"][data-name=${JSON.stringify(name)}]`);
  const row = rows.nth(await rows.count());
  await startStateLog(page);
  let pickedAt = 0;
  const measured = await watched(agentPid, page, async () => {
    const started = performance.now();
    pickedAt = Date.now();
    await page.getByTestId('files-upload-input').setInputFiles(sourceFile);
    const outcome = await settled(row, deadlineMs);
    return { seconds: (performance.now() - started) / 1000, ...outcome };
  });
  const { state, text, ...figures } = measured;
  if (state !== 'done') throw new Error(`the Tether upload ended ${state}: ${text}`);
  const savedAs = text.match(/Saved on the computer as (.+?); SHA-256/)?.[1] ?? name;
  const saved = path.join(incoming, savedAs);
  const hashOk = (await sha256File(saved)) === sourceHash;
  await rm(saved, { force: true });
  return { ...figures, hashOk, text, states: await stateTimes(page, 'to', name, pickedAt) };
}

/** Reference, server → browser: a `download` link on the reference page. */
async function referenceDownload({ refPage, sourceHash }) {
  await startHeapSampler(refPage);
  const cpuBefore = ownCpuSeconds();
  const downloading = refPage.waitForEvent('download', { timeout: deadlineMs });
  const started = performance.now();
  await refPage.locator('#file').click();
  const download = await downloading;
  const saved = await download.path();
  const seconds = (performance.now() - started) / 1000;
  const serverCpuS = ownCpuSeconds() - cpuBefore;
  const failure = await download.failure();
  if (failure) throw new Error(`the reference download failed: ${failure}`);
  const pageHeapPeakMiB = await stopHeapSampler(refPage);
  const hashOk = (await sha256File(saved)) === sourceHash;
  await download.delete();
  return { seconds, serverCpuS, pageHeapPeakMiB, hashOk };
}

/** Reference, browser → server: the file picked, then `fetch('/upload', { method: 'POST', body: file })`. */
async function referenceUpload({ refPage, reference, sourceFile, sourceHash }) {
  await startHeapSampler(refPage);
  const cpuBefore = ownCpuSeconds();
  const started = performance.now();
  await refPage.locator('#pick').setInputFiles(sourceFile);
  const answer = await refPage.evaluate(async () => {
    const file = document.getElementById('pick').files[0];
    const fetchStarted = performance.now();
    const response = await fetch('/upload', { method: 'POST', body: file });
    const body = await response.text();
    return { status: response.status, body, fetchMs: performance.now() - fetchStarted };
  });
  const seconds = (performance.now() - started) / 1000;
  const serverCpuS = ownCpuSeconds() - cpuBefore;
  const pageHeapPeakMiB = await stopHeapSampler(refPage);
  if (answer.status !== 200) throw new Error(`the reference upload answered ${answer.status}: ${answer.body}`);
  const saved = reference.uploaded();
  const hashOk = (await sha256File(saved)) === sourceHash;
  await rm(saved, { force: true });
  return { seconds, fetchSeconds: answer.fetchMs / 1000, serverCpuS, pageHeapPeakMiB, hashOk };
}

/** One run: a fresh agent and session; Tether and the reference both ways, in `order`. */
async function measureRun({ run, order, page, refPage, server, reference, xvfb, configPath, agentId, dirs, file }) {
  const agent = startAgent(configPath, xvfb.display, { TETHER_FILES_DIR: dirs.incoming, TETHER_BROWSE_ROOT: dirs.shared });
  const result = { run, order, tether: {}, reference: {} };
  try {
    await agentOnline(server.url, agentId);
    await connectFromTargets(page, server.url, agentId);
    await refPage.goto(`${reference.url}/`);

    const common = { ...file, page, refPage, reference, agentPid: agent.pid, incoming: dirs.incoming };
    for (const side of order) {
      for (const direction of DIRECTIONS) {
        const measure = { tether: { download: tetherDownload, upload: tetherUpload }, reference: { download: referenceDownload, upload: referenceUpload } }[side][direction];
        // The measured page in front: a page behind another gets few animation frames.
        await (side === 'tether' ? page : refPage).bringToFront();
        const figures = await measure(common);
        figures.mibPerS = options.sizeMiB / figures.seconds;
        if (figures.states) {
          // The bytes moving alone: from the row's "moving" to its "checking" (or "done").
          const { moving, checking, done } = figures.states;
          const end = checking ?? done;
          figures.movingMiBps = moving !== undefined && end > moving ? options.sizeMiB / (end - moving) : null;
        }
        result[side][direction] = figures;
        const extra = side === 'tether'
          ? `, agent CPU ${figures.agentCpuS.toFixed(2)} s, agent RSS ${figures.agentRssBeforeMiB.toFixed(0)} → peak ${figures.agentPeakRssMiB.toFixed(0)} MiB; ` +
            `row ${Object.entries(figures.states).map(([state, at]) => `${state} at ${at.toFixed(2)} s`).join(', ')}`
          : `, this process's CPU ${figures.serverCpuS.toFixed(2)} s`;
        log(`  ${side} ${direction}: ${figures.seconds.toFixed(2)} s, ${figures.mibPerS.toFixed(1)} MiB/s, SHA-256 ${figures.hashOk ? 'ok' : 'MISMATCH'}${extra}`);
      }
    }
    for (const direction of DIRECTIONS) {
      result[direction] = { ratio: result.tether[direction].seconds / result.reference[direction].seconds };
    }
    try {
      await page.getByTestId('end-session').click();
      await page.getByTestId('page-title').filter({ hasText: 'Targets' }).waitFor();
    } catch (error) {
      log(`  ending the session did not go as expected (measurements kept): ${error.message.split('\n')[0]}`);
      await page.goto('about:blank');
    }
    return result;
  } catch (error) {
    error.message += `\nagent output (last lines):\n${agent.output.slice(-15).join('\n')}`;
    throw error;
  } finally {
    await agent.stop();
  }
}

const fmt = (value, digits = 1) => (value === null || value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits));

/** Medians over runs of each figure, per direction. */
function summarize(runs) {
  const summary = {};
  for (const direction of DIRECTIONS) {
    const measured = runs.filter((run) => run.tether?.[direction] && run.reference?.[direction]);
    const ofMeasured = (pick) => median(measured.map(pick).filter((v) => v !== null && v !== undefined && Number.isFinite(v)));
    summary[direction] = {
      runs: measured.length,
      tetherSeconds: ofMeasured((run) => run.tether[direction].seconds),
      referenceSeconds: ofMeasured((run) => run.reference[direction].seconds),
      tetherMiBps: ofMeasured((run) => run.tether[direction].mibPerS),
      tetherMovingMiBps: ofMeasured((run) => run.tether[direction].movingMiBps),
      referenceMiBps: ofMeasured((run) => run.reference[direction].mibPerS),
      ratio: ofMeasured((run) => run[direction].ratio),
      agentCpuS: ofMeasured((run) => run.tether[direction].agentCpuS),
      agentPeakRssMiB: ofMeasured((run) => run.tether[direction].agentPeakRssMiB),
      agentRssBeforeMiB: ofMeasured((run) => run.tether[direction].agentRssBeforeMiB),
      referenceCpuS: ofMeasured((run) => run.reference[direction].serverCpuS),
      tetherPageHeapMiB: ofMeasured((run) => run.tether[direction].pageHeapPeakMiB),
      referencePageHeapMiB: ofMeasured((run) => run.reference[direction].pageHeapPeakMiB),
      hashesOk: measured.every((run) => run.tether[direction].hashOk && run.reference[direction].hashOk),
    };
  }
  return summary;
}

function renderMarkdown({ machine, options: opts, runs, failures, summary, started, finished }) {
  const smoke = opts.runs < 3 || opts.sizeMiB < 256;
  const notes = [machine.agentBuild !== 'release' || machine.serverBuild !== 'release' ? `${machine.agentBuild} build` : null, smoke ? 'smoke run' : null].filter(Boolean);
  const lines = [];
  lines.push(`# File transfer benchmark — ${machine.date} on ${machine.host}${notes.length ? ` (${notes.join(', ')})` : ''}`, '');
  lines.push(`Produced by \`node bench/transfer.mjs --runs ${opts.runs} --size-mib ${opts.sizeMiB}\` (what \`bash bench/transfer.sh\` runs; see bench/README.md). One file of random bytes moved through`);
  lines.push("Tether's Files panel (agent ↔ browser over the session's WebRTC data channel) and through a plain HTTP");
  lines.push('server (the reference), in the same browser and the same run; every transfer checked by SHA-256.');
  lines.push(`${runs.length} run(s) of ${opts.sizeMiB} MiB; every figure is the median over runs; runs alternate which goes first.`);
  lines.push('Ratio = Tether time / reference time in the same run (lower is better; 1 = as fast as plain HTTP).', '');
  lines.push('| direction | size (MiB) | Tether (MiB/s) | reference (MiB/s) | Tether / reference time | agent CPU (s) | agent peak RSS (MiB) | agent RSS before (MiB) | reference server CPU (s) |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const label = { download: 'download (computer → browser)', upload: 'upload (browser → computer)' };
  for (const direction of DIRECTIONS) {
    const s = summary[direction];
    lines.push(`| ${label[direction]} | ${opts.sizeMiB} | ${fmt(s.tetherMiBps)} | ${fmt(s.referenceMiBps)} | ${fmt(s.ratio, 2)} | ${fmt(s.agentCpuS, 2)} | ${fmt(s.agentPeakRssMiB, 0)} | ${fmt(s.agentRssBeforeMiB, 0)} | ${fmt(s.referenceCpuS, 2)} |`);
  }
  lines.push('');
  const allOk = DIRECTIONS.every((direction) => summary[direction].hashesOk);
  lines.push(`SHA-256 of every received file ${allOk ? 'equal to the source' : '**differed from the source in some run** (see the JSON)'}.`);
  lines.push(`Median times: download Tether ${fmt(summary.download.tetherSeconds, 2)} s, reference ${fmt(summary.download.referenceSeconds, 2)} s; ` +
    `upload Tether ${fmt(summary.upload.tetherSeconds, 2)} s, reference ${fmt(summary.upload.referenceSeconds, 2)} s. ` +
    `Peak JS heap of the page (performance.memory, MiB) download / upload: controller ${fmt(summary.download.tetherPageHeapMiB, 0)} / ${fmt(summary.upload.tetherPageHeapMiB, 0)}, ` +
    `reference ${fmt(summary.download.referencePageHeapMiB, 0)} / ${fmt(summary.upload.referencePageHeapMiB, 0)}. ` +
    `Tether while the row said "moving" (bytes on the data channel, without the asking before and the check and hand-over after): ` +
    `download ${fmt(summary.download.tetherMovingMiBps)} MiB/s, upload ${fmt(summary.upload.tetherMovingMiBps)} MiB/s.`, '');
  lines.push('### Per run', '');
  lines.push('| run | first | download Tether / reference (s) | ratio | upload Tether / reference (s) | ratio | agent CPU down / up (s) | agent peak RSS down / up (MiB) | Tether row moving → checking → done, down; up (s) |');
  lines.push('|---:|---|---:|---:|---:|---:|---:|---:|---|');
  const phases = (states) => (states ? ['moving', 'checking', 'done'].map((state) => fmt(states[state], 2)).join(' → ') : '–');
  for (const run of runs) {
    const t = run.tether;
    const r = run.reference;
    lines.push(`| ${run.run} | ${run.order[0]} | ${fmt(t.download?.seconds, 2)} / ${fmt(r.download?.seconds, 2)} | ${fmt(run.download?.ratio, 2)} | ` +
      `${fmt(t.upload?.seconds, 2)} / ${fmt(r.upload?.seconds, 2)} | ${fmt(run.upload?.ratio, 2)} | ` +
      `${fmt(t.download?.agentCpuS, 2)} / ${fmt(t.upload?.agentCpuS, 2)} | ${fmt(t.download?.agentPeakRssMiB, 0)} / ${fmt(t.upload?.agentPeakRssMiB, 0)} | ` +
      `${phases(t.download?.states)}; ${phases(t.upload?.states)} |`);
  }
  lines.push('');
  lines.push(...machineSection(machine, started, finished));
  lines.push('## Method and limits', '');
  lines.push(
    'Everything runs on one machine over loopback (127.0.0.1), so neither figure is a network figure: they show what ' +
      "the two ends cost. The reference is plain HTTP/1.1 over TCP with no encryption, served by Node in the benchmark's " +
      "own process (`GET /file` as an attachment, `POST /upload` streamed to a file), while Tether's bytes go through " +
      "the session's WebRTC data channel — DTLS encryption and SCTP with its own flow control, in user space on both " +
      "ends — plus the product's work: the browser writes a download piece by piece to the origin's private file system, " +
      'hashes it and then hands it over as a normal download; the agent hashes an upload before it says done. The reference ' +
      'hashes nothing (the benchmark checks its files afterwards, untimed). A Tether download is timed from the click on ' +
      "Download to the browser's download being complete (`download.path()`), an upload from `setInputFiles` to the " +
      "transfer row's `done`; the reference the same way (the click on a `download` link; `setInputFiles` then " +
      '`fetch(…, { body: file })` until the answer). The session stays connected (streaming an idle Xvfb screen) ' +
      'during the reference transfers too. Agent CPU is `utime + stime` from `/proc/<pid>/stat` over the transfer; ' +
      'peak RSS is `VmHWM`, reset before each transfer through `/proc/<pid>/clear_refs`, so it is the peak during that ' +
      'transfer (RSS before is the agent at rest with the session open). The reference\'s CPU figure is this Node ' +
      "process's, which also runs Playwright's client. The source file sits in the page cache for both. With 2 cores " +
      'shared by Chromium, the agent, the server and possibly other jobs, runs vary; only same-run ratios are compared.',
  );
  lines.push('');
  lines.push(
    "The agent's peak RSS is the check of the 2 GiB-file claim: the agent streams a file in pieces and its memory must " +
      'not grow with the file size. Run `bash bench/transfer.sh --size-mib 2048` and compare its peak RSS with this ' +
      "table's: it should stay about the same (it needs ≈ 3 × the size free on the temporary disk).",
  );
  lines.push('');
  lines.push(...failuresSection('Runs that failed', failures));
  return lines.join('\n');
}

async function main() {
  const machine = machineInfo();
  const started = new Date().toISOString();
  const workDir = await mkdtemp(path.join(tmpdir(), 'tether-bench-transfer-'));
  const dirs = {
    shared: path.join(workDir, 'shared'),
    incoming: path.join(workDir, 'incoming'),
    reference: path.join(workDir, 'reference'),
  };
  for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true });
  const name = `tether-bench-${options.sizeMiB}MiB.bin`;
  const sourceFile = path.join(dirs.shared, name);
  const runs = [];
  const failures = [];
  let server = null;
  let reference = null;
  let xvfb = null;
  let browser = null;
  try {
    log(`writing ${options.sizeMiB} MiB of random bytes to ${sourceFile}`);
    const sourceHash = await writeRandomFile(sourceFile, sizeBytes);
    const file = { sourceFile, name, sourceHash };
    const configPath = path.join(workDir, 'agent.json');
    const prepared = await prepareServer(configPath, 'bench transfer');
    server = prepared.server;
    const { agentId } = prepared;
    reference = await startReferenceServer(sourceFile, name, dirs.reference);
    xvfb = await startXvfb(1280, 720);
    browser = await launchBrowser({ extraArgs: [...LOOPBACK_WEBRTC_ARGS, '--enable-precise-memory-info'] });
    browser.context.setDefaultTimeout(20_000);
    const page = await browser.context.newPage();
    const refPage = await browser.context.newPage();
    const pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    log(`server ${server.url}, reference ${reference.url}, agent on ${xvfb.display}; ${options.runs} run(s) of ${options.sizeMiB} MiB, ${deadlineMs / 1000} s per transfer at most`);
    for (let run = 1; run <= options.runs; run += 1) {
      const order = run % 2 === 1 ? ['tether', 'reference'] : ['reference', 'tether'];
      log(`run ${run}/${options.runs}: ${order.join(' first, then ')}`);
      try {
        const result = await measureRun({ run, order, page, refPage, server, reference, xvfb, configPath, agentId, dirs, file });
        runs.push({ ...result, load: loadavg()[0] });
      } catch (error) {
        log(`  failed: ${error.message}`);
        failures.push({ run, error: error.message });
        await page.goto('about:blank').catch(() => {});
      }
    }
    if (pageErrors.length) log(`page errors: ${pageErrors.join('; ')}`);
  } finally {
    await browser?.close();
    await xvfb?.stop();
    await reference?.stop();
    await server?.stop();
    await rm(workDir, { recursive: true, force: true });
  }
  machine.loadEnd = loadNow();
  const finished = new Date().toISOString();
  const summary = summarize(runs);
  const results = { machine, options, started, finished, summary, runs, failures };
  const written = await writeResults(args.out, 'transfer', results, renderMarkdown(results));
  log(`wrote ${written}`);
  for (const direction of DIRECTIONS) {
    const s = summary[direction];
    log(`${direction}: Tether ${fmt(s.tetherMiBps)} MiB/s, reference ${fmt(s.referenceMiBps)} MiB/s, ratio ${fmt(s.ratio, 2)}, agent CPU ${fmt(s.agentCpuS, 2)} s, peak RSS ${fmt(s.agentPeakRssMiB, 0)} MiB`);
  }
  if (runs.length === 0) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
