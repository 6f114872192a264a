// Turns the benchmark's per-run measurements into the results table:
// medians of run medians per resolution, sender and scene, our/reference
// ratios, and whether each target of issue 3 is met.

/** The q-quantile (0..1) of `values` by linear interpolation; null if empty. */
export function quantile(values, q) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
}

export const median = (values) => quantile(values, 0.5);

/** Per-run summary of one scene window. */
export function summarizeWindow(window) {
  return {
    p50: quantile(window.samples, 0.5),
    p95: quantile(window.samples, 0.95),
    samples: window.samples.length,
    fps: window.fps,
    kbps: window.kbps,
    cpu: window.cpuPercent,
    undecodable: window.undecodable,
    framesDropped: window.framesDropped,
    packetsLost: window.packetsLost,
    jitterBufferMs: window.jitterBufferMs,
    decodeMs: window.decodeMs,
    receiverP50: quantile(window.receiverSide ?? [], 0.5),
  };
}

/** Medians over runs of each per-run figure. */
export function aggregate(runs, resolution, sender, scene) {
  const windows = runs
    .filter((run) => run.resolution === resolution && run.sender === sender && run.scenes?.[scene])
    .map((run) => summarizeWindow(run.scenes[scene]));
  const of = (key) => median(windows.map((w) => w[key]).filter((v) => v !== null && v !== undefined));
  return {
    runs: windows.length,
    p50: of('p50'),
    p95: of('p95'),
    p50Spread: windows.length ? [quantile(windows.map((w) => w.p50), 0), quantile(windows.map((w) => w.p50), 1)] : null,
    samples: windows.reduce((sum, w) => sum + w.samples, 0),
    fps: of('fps'),
    kbps: of('kbps'),
    cpu: of('cpu'),
    undecodable: windows.reduce((sum, w) => sum + (w.undecodable ?? 0), 0),
    lost: windows.reduce((sum, w) => sum + (w.packetsLost ?? 0), 0),
    jitterBufferMs: of('jitterBufferMs'),
    decodeMs: of('decodeMs'),
    receiverP50: of('receiverP50'),
  };
}

const fmt = (value, digits = 0) => (value === null || value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits));
const ratio = (ours, reference, digits = 2) =>
  ours === null || reference === null || reference === 0 ? '–' : (ours / reference).toFixed(digits);
const verdict = (value, limit) => (value === null ? 'n/a' : value <= limit ? 'met' : 'missed');

/** The markdown results: machine, method, one table per resolution, targets. */
export function renderReport({ machine, options, runs, failures, resolutions, started, finished }) {
  const lines = [];
  lines.push(`# Streaming benchmark — ${machine.date} on ${machine.host}`, '');
  lines.push('Produced by `bash bench/run.sh` (see bench/README.md for the method). Times in ms, bitrates in kbit/s');
  lines.push('(RTP payload + headers as the browser received them), CPU in % of one core over the window,');
  lines.push('latency = frame shown (rVFC expectedDisplayTime) − time code drawn. Every figure is the median over');
  lines.push(`runs of the per-run figure; runs alternate which sender goes first. ${options.runs} runs per sender and resolution.`, '');
  lines.push('## Machine', '');
  lines.push(`- CPU: ${machine.cpu} × ${machine.nproc} (no GPU); RAM ${machine.ramGiB} GiB; kernel ${machine.kernel}`);
  lines.push(`- ${machine.chromium}; GStreamer ${machine.gstreamer}; Tether ${machine.tether}`);
  lines.push(`- load average at start ${machine.loadStart}, at end ${machine.loadEnd}; ${started} → ${finished}`);
  lines.push(`- windows: idle ${options.idle} s, typing ${options.typing} s, motion ${options.motion} s, each after ${options.warmup} s settling`);
  lines.push('');
  for (const { width, height } of resolutions) {
    const resolution = `${width}x${height}`;
    const t = (scene) => aggregate(runs, resolution, 'tether', scene);
    const r = (scene) => aggregate(runs, resolution, 'reference', scene);
    const [ti, tt, tm, ri, rt, rm] = [t('idle'), t('typing'), t('motion'), r('idle'), r('typing'), r('motion')];
    const peak = (sender) =>
      median(runs.filter((run) => run.resolution === resolution && run.sender === sender && run.peakRssKiB).map((run) => run.peakRssKiB / 1024));
    const connect = (sender) =>
      median(runs.filter((run) => run.resolution === resolution && run.sender === sender && run.firstFrameMs).map((run) => run.firstFrameMs));
    lines.push(`## ${width}×${height}`, '');
    lines.push('| | Tether | reference (GStreamer x264) | Tether / reference |');
    lines.push('|---|---:|---:|---:|');
    const row = (label, a, b, digits = 0) => lines.push(`| ${label} | ${fmt(a, digits)} | ${fmt(b, digits)} | ${ratio(a, b)} |`);
    row('latency p50, typing (ms)', tt.p50, rt.p50);
    row('latency p95, typing (ms)', tt.p95, rt.p95);
    row('latency p50, full motion (ms)', tm.p50, rm.p50);
    row('latency p95, full motion (ms)', tm.p95, rm.p95);
    row('browser jitter buffer, typing / motion (ms)', tt.jitterBufferMs, rt.jitterBufferMs);
    lines.pop();
    const split = (a) => (a.p50 === null || a.receiverP50 === null ? '–' : `${fmt(a.p50 - a.receiverP50)} + ${fmt(a.receiverP50)}`);
    lines.push(`| p50 ≈ drawn→last packet + last packet→shown, typing (ms) | ${split(tt)} | ${split(rt)} | |`);
    lines.push(`| p50 ≈ drawn→last packet + last packet→shown, motion (ms) | ${split(tm)} | ${split(rm)} | |`);
    lines.push(`| browser jitter buffer, typing / motion (ms) | ${fmt(tt.jitterBufferMs)} / ${fmt(tm.jitterBufferMs)} | ${fmt(rt.jitterBufferMs)} / ${fmt(rm.jitterBufferMs)} | |`);
    lines.push(`| browser decode per frame, typing / motion (ms) | ${fmt(tt.decodeMs, 1)} / ${fmt(tm.decodeMs, 1)} | ${fmt(rt.decodeMs, 1)} / ${fmt(rm.decodeMs, 1)} | |`);
    row('fps, full motion', tm.fps, rm.fps, 1);
    row('fps, typing', tt.fps, rt.fps, 1);
    row('fps, idle', ti.fps, ri.fps, 1);
    row('bitrate idle (kbit/s)', ti.kbps, ri.kbps, 1);
    row('bitrate typing (kbit/s)', tt.kbps, rt.kbps);
    row('bitrate full motion (kbit/s)', tm.kbps, rm.kbps);
    row('sender CPU idle (% core)', ti.cpu, ri.cpu, 1);
    row('sender CPU typing (% core)', tt.cpu, rt.cpu, 1);
    row('sender CPU full motion (% core)', tm.cpu, rm.cpu, 1);
    row('sender peak RSS (MiB)', peak('tether'), peak('reference'));
    row('connect → first frame (ms)', connect('tether'), connect('reference'));
    lines.push('');
    lines.push(
      `Latency samples (typing / motion): Tether ${tt.samples} / ${tm.samples}, reference ${rt.samples} / ${rm.samples}; ` +
        `run p50 spread (motion): Tether ${fmt(tm.p50Spread?.[0])}–${fmt(tm.p50Spread?.[1])}, reference ${fmt(rm.p50Spread?.[0])}–${fmt(rm.p50Spread?.[1])} ms; ` +
        `undecodable frames: Tether ${tt.undecodable + tm.undecodable}, reference ${rt.undecodable + rm.undecodable}; ` +
        `packets lost: Tether ${ti.lost + tt.lost + tm.lost}, reference ${ri.lost + rt.lost + rm.lost}.`,
    );
    lines.push('');
    if (width === 1920) {
      lines.push('Targets (issue 3) at 1080p:', '');
      lines.push(`- p50 ≤ 40 ms: typing ${fmt(tt.p50)} ms ${verdict(tt.p50, 40)}, full motion ${fmt(tm.p50)} ms ${verdict(tm.p50, 40)}`);
      lines.push(`- p95 ≤ 70 ms: typing ${fmt(tt.p95)} ms ${verdict(tt.p95, 70)}, full motion ${fmt(tm.p95)} ms ${verdict(tm.p95, 70)}`);
      const ratioOf = (a, b) => (a === null || b === null || b === 0 ? null : a / b);
      lines.push(
        `- latency ratio ≤ 0.7 (p50): typing ${fmt(ratioOf(tt.p50, rt.p50), 2)} ${verdict(ratioOf(tt.p50, rt.p50), 0.7)}, ` +
          `full motion ${fmt(ratioOf(tm.p50, rm.p50), 2)} ${verdict(ratioOf(tm.p50, rm.p50), 0.7)}`,
      );
    }
    lines.push(`- idle ≤ 2 % of a core: ${fmt(ti.cpu, 1)} % ${verdict(ti.cpu, 2)}; idle ≤ 50 kbit/s: ${fmt(ti.kbps, 1)} ${verdict(ti.kbps, 50)}`);
    lines.push(`- typing ≤ 1 Mbit/s: ${fmt(tt.kbps)} kbit/s ${verdict(tt.kbps, 1000)}`, '');
  }
  if (failures.length) {
    lines.push('## Runs that failed', '');
    for (const failure of failures) lines.push(`- ${failure.resolution} ${failure.sender} run ${failure.run}: ${failure.error.split('\n')[0]}`);
    lines.push('');
  }
  return lines.join('\n');
}
