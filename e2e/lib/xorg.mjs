// A private Xorg with the dummy video driver, for tests that need several
// monitors (Xvfb ignores `xrandr --setmonitor`): one virtual output, DUMMY0,
// as big as the whole screen, with RandR monitors defined on it. Like Xvfb
// (xvfb.mjs) it picks a free display number itself (`-displayfd`), listens
// on no TCP port and is stopped by its PID; its config and log live in a
// temporary directory that stop() removes. Needs no GPU, udev or console
// (it shares the current virtual terminal and never switches it); monitors
// are set with xrandr (Debian package x11-xserver-utils).

import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { displayOf, startProcess } from './process.mjs';
import { until } from './wait.mjs';

/** Runs xrandr on `display`; resolves to its stdout. */
function xrandr(display, args) {
  return new Promise((resolve, reject) => {
    execFile('xrandr', args, { env: { ...process.env, DISPLAY: display }, timeout: 5_000 }, (error, stdout, stderr) => {
      if (error?.code === 'ENOENT') reject(new Error('cannot run xrandr (Debian package x11-xserver-utils)'));
      else if (error) reject(new Error(`xrandr ${args.join(' ')} failed: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

/**
 * The RandR monitors of `display`, as `xrandr --listmonitors` shows them:
 * `[{ name, x, y, width, height, primary }]`.
 */
export async function listMonitors(display) {
  const monitors = [];
  // ` 0: +*DUMMY0 2560/677x720/190+0+0  DUMMY0` (`+`: automatic, `*`: primary)
  for (const line of (await xrandr(display, ['--listmonitors'])).split('\n')) {
    const m = /^\s*\d+:\s+([+*]*)(\S+)\s+(\d+)\/\d+x(\d+)\/\d+([+-]\d+)([+-]\d+)/.exec(line);
    if (m) monitors.push({ name: m[2], x: +m[5], y: +m[6], width: +m[3], height: +m[4], primary: m[1].includes('*') });
  }
  return monitors;
}

/**
 * Defines (or redefines) the monitor `{ name, x, y, width, height }` at 96
 * dpi, on no output unless `output` is given, primary if `primary`.
 */
export async function setMonitor(display, { name, x, y, width, height, primary = false, output = 'none' }) {
  // Redefining a monitor in place fails (BadValue): delete it first.
  if ((await listMonitors(display)).some((monitor) => monitor.name === name)) await deleteMonitor(display, name);
  const mm = (pixels) => Math.round((pixels * 25.4) / 96);
  const geometry = `${width}/${mm(width)}x${height}/${mm(height)}+${x}+${y}`;
  await xrandr(display, ['--setmonitor', `${primary ? '*' : ''}${name}`, geometry, output]);
}

/** Deletes the monitor called `name`. */
export async function deleteMonitor(display, name) {
  await xrandr(display, ['--delmonitor', name]);
}

/** The server's configuration: a `width`×`height`×24 screen, DUMMY0 showing all of it. */
function config(width, height) {
  // A reduced-blanking mode of exactly the screen's size, DUMMY0's preferred one.
  const [hTotal, vTotal] = [width + 160, height + 20];
  const clock = ((hTotal * vTotal * 60) / 1e6).toFixed(2);
  const modeline = `"${width}x${height}" ${clock} ${width} ${width + 48} ${width + 80} ${hTotal} ${height} ${height + 3} ${height + 8} ${vTotal} +hsync +vsync`;
  return `Section "ServerFlags"
  Option "AutoAddDevices" "false"
  Option "AutoAddGPU" "false"
  Option "DontVTSwitch" "true"
EndSection
Section "Device"
  Identifier "dummy"
  Driver "dummy"
  VideoRam ${Math.ceil(((width + 64) * height * 4) / 1024)}
  Option "Monitor-DUMMY0" "monitor"
EndSection
Section "Monitor"
  Identifier "monitor"
  HorizSync 5.0-1000.0
  VertRefresh 5.0-200.0
  Modeline ${modeline}
  Option "PreferredMode" "${width}x${height}"
EndSection
Section "Screen"
  Identifier "screen"
  Device "dummy"
  Monitor "monitor"
  DefaultDepth 24
  SubSection "Display"
    Depth 24
    Virtual ${width} ${height}
  EndSubSection
EndSection
`;
}

/**
 * Starts Xorg with one `width`×`height`×24 screen and defines `monitors`
 * (`[{ name, x, y, width, height }]`, by default LEFT and RIGHT side by
 * side). The first monitor is primary and takes DUMMY0, so RandR lists no
 * automatic DUMMY0 monitor besides them (deleting it brings that back).
 * Resolves, once `xrandr --listmonitors` shows exactly them, to `{ display,
 * pid, output, stop }`; rejects if Xorg exits first or the deadline passes.
 */
export async function startXorgDummy({
  width = 2560,
  height = 720,
  monitors = [
    { name: 'LEFT', x: 0, y: 0, width: 1280, height: 720 },
    { name: 'RIGHT', x: 1280, y: 0, width: 1280, height: 720 },
  ],
  deadlineMs = 20_000,
} = {}) {
  const deadline = Date.now() + deadlineMs;
  const dir = await mkdtemp(path.join(tmpdir(), 'tether-xorg-'));
  const configFile = path.join(dir, 'xorg.conf');
  // Our own (empty) config directory, so none of the host's is merged in.
  const configDir = path.join(dir, 'xorg.conf.d');
  const logFile = path.join(dir, 'Xorg.log');
  await writeFile(configFile, config(width, height));
  await mkdir(configDir);
  await writeFile(path.join(configDir, '00-empty.conf'), '# nothing: only the -config file counts\n');

  const xorg = startProcess(
    'Xorg',
    [
      '-displayfd', '1', '-nolisten', 'tcp', '-noreset',
      '-config', configFile, '-configdir', configDir, '-logfile', logFile,
      // Never take over a console: share the current VT, don't switch, keep our tty.
      '-sharevts', '-novtswitch', '-keeptty',
    ],
    { label: 'Xorg', streams: ['stderr'] },
  );
  const { output, running } = xorg;
  const stop = async () => {
    await xorg.stop();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const hint = 'Debian packages xserver-xorg-core and xserver-xorg-video-dummy; scripts/test.sh installs them';
    const display = await displayOf(xorg, { label: 'Xorg', hint, deadlineMs: deadline - Date.now() });

    for (const [index, monitor] of monitors.entries()) {
      await setMonitor(display, { primary: index === 0, output: index === 0 ? 'DUMMY0' : 'none', ...monitor });
    }
    const same = (a, b) => ['name', 'x', 'y', 'width', 'height'].every((key) => a[key] === b[key]);
    await until(
      async () => {
        if (!running()) throw new Error(`Xorg exited while its monitors were being set\n${output.join('\n')}`);
        const listed = await listMonitors(display);
        return listed.length === monitors.length && monitors.every((want) => listed.some((have) => same(want, have)));
      },
      `the monitors ${monitors.map((monitor) => monitor.name).join(', ')} on ${display}`,
      { deadlineMs: Math.max(0, deadline - Date.now()), describe: () => listMonitors(display).catch((error) => error.message) },
    );
    return { display, pid: xorg.child.pid, output, stop };
  } catch (error) {
    // Why is in the log (stderr may say only "no screens found"), which stop() removes.
    await xorg.stop();
    const log = await readFile(logFile, 'utf8').catch(() => '');
    const errors = log.split('\n').filter((line) => line.includes('(EE)') && !/dbus|input driver|"(mouse|kbd|libinput)"/.test(line));
    if (errors.length) error.message += `\nfrom the log:\n${errors.join('\n')}`;
    await stop();
    throw error;
  }
}
