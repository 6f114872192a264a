// The streaming benchmark (issue 3, point 8): one real server, a technician
// in headless Chromium, and two senders taking turns on the same Xvfb —
// Tether's agent and a GStreamer reference (bench/reference_agent.py) —
// each streaming scenes painted by bench/timecode.py. The in-page probe
// (bench/lib/probe.js) measures glass-to-glass latency from the time code;
// /proc gives the sender's CPU and peak memory. Writes
// bench/results/<date>-<host>.{md,json}.
//
//   node bench/harness.mjs [--runs 5] [--resolutions 1280x720,1920x1080]
//        [--senders tether,reference] [--idle 10] [--typing 15] [--motion 15] [--warmup 3]

import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile, readFile } from 'node:fs/promises';
import { cpus, hostname, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { allowUnattended, call, createEnrollmentToken, createUser, firstLogin, login } from '../e2e/lib/api.mjs';
import { LOOPBACK_WEBRTC_ARGS, launchBrowser } from '../e2e/lib/browser.mjs';
import { agentBinary, enrollAgent, repoRoot, startServer } from './lib/server.mjs';
import { start, until, cpuSeconds, peakRssKiB } from './lib/procs.mjs';
import { startXvfb } from './lib/xvfb.mjs';
import { quantile, renderReport } from './lib/report.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3';
const ADMIN_PASSWORD = 'bench-admin-correct-horse-42';
const TECH = { username: 'bench', displayName: 'Bench Technician', role: 'technician', password: 'bench-one-time-pass-1' };
const TECH_PASSWORD = 'bench-battery-staple-7';
const REFERENCE_HOSTNAME = 'gst-reference';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    resolutions: { type: 'string', default: '1280x720,1920x1080' },
    senders: { type: 'string', default: 'tether,reference' },
    idle: { type: 'string', default: '10' },
    typing: { type: 'string', default: '15' },
    motion: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '3' },
    out: { type: 'string', default: path.join(benchDir, 'results') },
  },
});
const options = {
  runs: Number(args.runs),
  idle: Number(args.idle),
  typing: Number(args.typing),
  motion: Number(args.motion),
  warmup: Number(args.warmup),
};
const resolutions = args.resolutions.split(',').map((text) => {
  const [width, height] = text.split('x').map(Number);
  return { width, height };
});
const senders = args.senders.split(',');

/** JSON replacer: figures to 0.1, which is all they are worth. */
const roundNumbers = (_key, value) => (typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 10) / 10 : value);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (...parts) => console.error(new Date().toISOString().slice(11, 19), ...parts);

function machineInfo() {
  const sh = (command, commandArgs) => {
    try {
      return execFileSync(command, commandArgs, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    host: hostname(),
    date: new Date().toISOString().slice(0, 10),
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    ramGiB: (totalmem() / 2 ** 30).toFixed(1),
    kernel: sh('uname', ['-r']),
    chromium: sh('/usr/bin/chromium', ['--version']).split('\n').pop(),
    gstreamer: sh('gst-inspect-1.0', ['--version']).split('\n')[1]?.replace(/^GStreamer /, '') ?? 'unknown',
    tether: process.env.BENCH_TETHER_VERSION ?? sh('git', ['-C', repoRoot, 'describe', '--always', '--dirty']),
    loadStart: loadavg().map((v) => v.toFixed(2)).join(' '),
  };
}

/** e2e's headless Debian Chromium with the loopback WebRTC flags (STACK-NOTES) and the in-page probe. */
async function launchProbedBrowser() {
  const browser = await launchBrowser({ extraArgs: LOOPBACK_WEBRTC_ARGS });
  browser.context.setDefaultTimeout(20_000);
  await browser.context.addInitScript({ path: path.join(benchDir, 'lib', 'probe.js') });
  return browser;
}

async function enroll(server, adminToken, label, configPath) {
  const token = await createEnrollmentToken(server.url, adminToken, label);
  await enrollAgent(server.url, token, configPath);
  return JSON.parse(await readFile(configPath, 'utf8')).agent_id;
}

function startSender(sender, configPath, display) {
  const env = { ...process.env, DISPLAY: display, TETHER_LOG: process.env.TETHER_LOG ?? 'info' };
  if (sender === 'tether') {
    return start('tether-agent', agentBinary(), ['run', '--config', configPath, '--unattended', '--webrtc-bind', '127.0.0.1:0'], { env });
  }
  return start('reference', PYTHON, [path.join(benchDir, 'reference_agent.py'), '--config', configPath, '--display', display, '--hostname', REFERENCE_HOSTNAME], { env });
}

/** Signs the technician in unless the Targets page is already showing. */
async function toTargets(page, serverUrl) {
  const title = page.getByTestId('page-title').filter({ hasText: 'Targets' });
  if (await title.isVisible().catch(() => false)) return;
  await page.goto(serverUrl);
  const login = page.getByTestId('login-form');
  await Promise.race([login.waitFor(), title.waitFor()]);
  if (await login.isVisible()) {
    await page.getByTestId('login-username').fill(TECH.username);
    await page.getByTestId('login-password').fill(TECH_PASSWORD);
    await page.getByTestId('login-submit').click();
  }
  await title.waitFor();
}

/** Sets the drawer's scene and waits for its acknowledgement. */
async function scene(drawer, name) {
  const ack = drawer.waitForLine(new RegExp(`^scene ${name}$`), 10_000);
  drawer.write(`${name}\n`);
  await ack;
}

/** One run: connect, measure idle/typing/motion, end the session. */
async function measureRun({ page, server, drawer, sender, configPath, agentId, display }) {
  const process_ = startSender(sender, configPath, display);
  const result = { scenes: {} };
  try {
    const techToken = await login(server.url, TECH.username, TECH_PASSWORD);
    await until(async () => {
      const { body } = await call(server.url, 'GET', '/api/targets', { token: techToken });
      return body?.find?.((target) => target.id === agentId && target.online);
    }, `${sender} online`, 30_000);
    await toTargets(page, server.url);
    const row = page.locator(`[data-testid="target-row"][data-id="${agentId}"]`);
    await row.locator('[data-testid="target-status"][data-status="online"]').waitFor({ timeout: 20_000 });
    await scene(drawer, 'idle');
    const clicked = Date.now();
    await row.getByTestId('target-connect').click();
    await page.waitForURL(/\/sessions\/[0-9a-f-]{36}$/);
    await until(() => page.evaluate(() => window.__bench?.status().decoded > 0), 'the first decodable frame', 30_000);
    result.firstFrameMs = Date.now() - clicked;
    for (const [name, seconds] of [['idle', options.idle], ['typing', options.typing], ['motion', options.motion]]) {
      await scene(drawer, name);
      // The encoder settles (key frame, rate control) before the window opens.
      await sleep(options.warmup * 1000);
      const cpuBefore = await cpuSeconds(process_.pid);
      const wallBefore = performance.now();
      await page.evaluate(() => window.__bench.start());
      await sleep(seconds * 1000);
      const window_ = await page.evaluate(() => window.__bench.stop());
      const cpuAfter = await cpuSeconds(process_.pid);
      window_.cpuPercent = (100 * (cpuAfter - cpuBefore)) / ((performance.now() - wallBefore) / 1000);
      result.scenes[name] = window_;
      const p50 = quantile(window_.samples, 0.5);
      log(`  ${name}: ${window_.samples.length} samples p50 ${p50 === null ? '–' : `${p50.toFixed(0)} ms`}, fps ${window_.fps?.toFixed(1)}, ${window_.kbps?.toFixed(0)} kbit/s, cpu ${window_.cpuPercent.toFixed(1)} %, ${window_.width}x${window_.height}${window_.errors.length ? ` errors ${window_.errors}` : ''}`);
    }
    result.peakRssKiB = await peakRssKiB(process_.pid);
    await scene(drawer, 'idle');
    try {
      // Ending leaves for the Targets page.
      await page.getByTestId('end-session').click();
      await page.getByTestId('page-title').filter({ hasText: 'Targets' }).waitFor();
    } catch (error) {
      log(`  ending the session did not go as expected (measurements kept): ${error.message.split('\n')[0]}`);
      await page.goto('about:blank');
    }
    return result;
  } catch (error) {
    error.message += `\n${sender} output (last lines):\n${process_.output.slice(-15).join('\n')}`;
    throw error;
  } finally {
    await process_.stop();
  }
}

async function main() {
  const machine = machineInfo();
  const started = new Date().toISOString();
  const workDir = await mkdtemp(path.join(tmpdir(), 'tether-bench-'));
  const runs = [];
  const failures = [];
  const server = await startServer();
  let browser = null;
  try {
    const adminToken = await firstLogin(server.url, 'admin', server.adminPassword, ADMIN_PASSWORD);
    await allowUnattended(server.url, adminToken);
    await createUser(server.url, adminToken, TECH);
    await firstLogin(server.url, TECH.username, TECH.password, TECH_PASSWORD);
    const configs = {};
    for (const sender of senders) {
      const configPath = path.join(workDir, `${sender}.json`);
      configs[sender] = { configPath, agentId: await enroll(server, adminToken, `bench ${sender}`, configPath) };
    }
    browser = await launchProbedBrowser();
    const page = await browser.context.newPage();
    const pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));

    for (const { width, height } of resolutions) {
      const resolution = `${width}x${height}`;
      const xvfb = await startXvfb(width, height);
      const drawer = start('timecode', PYTHON, [path.join(benchDir, 'timecode.py'), '--display', xvfb.display], { stdin: true });
      try {
        await drawer.waitForLine(/^ready$/, 60_000);
        log(`${resolution} on ${xvfb.display}`);
        for (let run = 1; run <= options.runs; run += 1) {
          const order = run % 2 === 1 ? senders : [...senders].reverse();
          for (const sender of order) {
            log(`${resolution} run ${run}/${options.runs}: ${sender}`);
            try {
              const result = await measureRun({ page, server, drawer, sender, display: xvfb.display, ...configs[sender] });
              runs.push({ resolution, sender, run, load: loadavg()[0], ...result });
            } catch (error) {
              log(`  failed: ${error.message}`);
              failures.push({ resolution, sender, run, error: error.message });
              await page.goto('about:blank').catch(() => {});
            }
          }
        }
      } finally {
        drawer.write('quit\n');
        await drawer.stop();
        await xvfb.stop();
      }
    }
    if (pageErrors.length) log(`page errors: ${pageErrors.join('; ')}`);
  } finally {
    await browser?.close();
    await server.stop();
    await rm(workDir, { recursive: true, force: true });
  }
  machine.loadEnd = loadavg().map((v) => v.toFixed(2)).join(' ');
  const finished = new Date().toISOString();
  await mkdir(args.out, { recursive: true });
  const base = path.join(args.out, `${machine.date}-${machine.host}`);
  await writeFile(`${base}.json`, JSON.stringify({ machine, options, started, finished, runs, failures }, roundNumbers));
  await writeFile(`${base}.md`, renderReport({ machine, options, runs, failures, resolutions, started, finished }));
  log(`wrote ${base}.md`);
  if (runs.length === 0) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
