// A real target computer for tests that need physical input and a real
// monitor: the Debian 12 virtual machine scripts/vm-image.sh builds (and
// caches in $TETHER_VM_DIR, else ~/.cache/tether/vm), booted by QEMU from
// its kernel and initrd with the disk in -snapshot mode (nothing a test does
// outlives the VM). Xorg runs on the VM's :0 with QEMU's PS/2 keyboard and
// USB tablet as evdev devices (not XTEST), which the host drives through the
// QMP monitor (input-send-event, send-key); screendump reads what the VM's
// VGA shows. Commands run in the VM through qemu-guest-agent (guest-exec
// over a virtio-serial port): no network login, no polling inside the VM.
// The host's `share` directory is mounted at /host in the VM (9p); the VM
// reaches the host's loopback services at 10.0.2.2 (QEMU user networking).
// QEMU is stopped by its PID; its sockets live in a temporary directory
// that stop() removes.

import { constants, rmSync } from 'node:fs';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { startProcess } from './process.mjs';
import { until } from './wait.mjs';

/** Where scripts/vm-image.sh keeps the image, kernel and initrd. */
export function vmDir() {
  return process.env.TETHER_VM_DIR ?? path.join(homedir(), '.cache', 'tether', 'vm');
}

/**
 * KVM when the CPU offers hardware virtualisation (vmx or svm) and /dev/kvm
 * is usable, else QEMU's own emulation (TCG). A /dev/kvm without either flag
 * (e.g. PVM, software virtualisation inside a VM) emulates every instruction
 * of an unmodified kernel and never gets through booting it. TETHER_VM_ACCEL
 * (`kvm` or `tcg`) overrides the choice.
 */
async function pickAccelerator() {
  if (process.env.TETHER_VM_ACCEL) return process.env.TETHER_VM_ACCEL;
  const usable = await access('/dev/kvm', constants.R_OK | constants.W_OK).then(() => true, () => false);
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  return usable && /^flags\s*:.*\b(vmx|svm)\b/m.test(cpuinfo) ? 'kvm' : 'tcg';
}

/**
 * Connects to a Unix socket that speaks one JSON object per line (QMP and
 * the guest agent); calls `onMessage` with each. Bytes 0xFF (the guest
 * agent's resynchronisation marker) are dropped.
 */
function connectJson(socketPath, onMessage) {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => {}); // it closes with QEMU; requests time out
      let pending = Buffer.alloc(0);
      socket.on('data', (chunk) => {
        pending = Buffer.concat([pending, chunk]);
        for (let end = pending.indexOf(10); end >= 0; end = pending.indexOf(10)) {
          const line = Buffer.from(pending.subarray(0, end).filter((byte) => byte !== 0xff)).toString('utf8').trim();
          pending = pending.subarray(end + 1);
          if (!line) continue;
          try {
            onMessage(JSON.parse(line));
          } catch {
            // not JSON: a partial message after a resynchronisation
          }
        }
      });
      resolve({ write: (message) => socket.write(`${JSON.stringify(message)}\n`), close: () => socket.destroy() });
    });
  });
}

/** A request/answer promise with a deadline. */
function answerWithin(ms, what, register) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to ${what} within ${ms} ms`)), ms);
    register((error, value) => {
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(value);
    });
  });
}

/** The QMP monitor: `command(execute, args)` resolves to its `return`. */
async function connectQmp(socketPath) {
  const waiting = new Map();
  let nextId = 1;
  let greeted;
  const greeting = new Promise((resolve) => { greeted = resolve; });
  const channel = await connectJson(socketPath, (message) => {
    if (message.QMP) greeted();
    const done = waiting.get(message.id);
    if (!done) return; // events
    waiting.delete(message.id);
    if (message.error) done(new Error(`QMP: ${message.error.class}: ${message.error.desc}`));
    else done(null, message.return);
  });
  const command = (execute, args, timeoutMs = 10_000) =>
    answerWithin(timeoutMs, `QMP ${execute}`, (done) => {
      const id = nextId++;
      waiting.set(id, done);
      channel.write(args ? { execute, arguments: args, id } : { execute, id });
    });
  await greeting;
  await command('qmp_capabilities');
  return { command, close: channel.close };
}

/**
 * The guest agent. It answers in order and without ids, so requests go one
 * at a time; `sync` first (guest-sync-delimited) discards whatever an earlier
 * connection or a not yet running agent left in the channel.
 */
async function connectGuestAgent(socketPath) {
  let current = null;
  const channel = await connectJson(socketPath, (message) => {
    // Answers to earlier syncs (a bare number) are left-overs.
    if (typeof message.return === 'number' && current?.sync !== message.return) return;
    const done = current?.done;
    current = null;
    if (!done) return;
    if (message.error) done(new Error(`guest agent: ${message.error.class}: ${message.error.desc}`));
    else done(null, message.return);
  });
  let queue = Promise.resolve();
  const request = (execute, args, timeoutMs = 10_000) => {
    const sync = execute === 'guest-sync-delimited' ? args.id : undefined;
    const result = queue.then(() =>
      answerWithin(timeoutMs, `guest agent ${execute}`, (done) => {
        current = { done, sync };
        channel.write({ execute, arguments: args });
      }),
    );
    queue = result.catch(() => {});
    return result;
  };
  // `check` throws if waiting is pointless (QEMU is gone).
  const sync = (deadlineMs, check) =>
    until(
      () => {
        check();
        const id = Math.floor(Math.random() * 2 ** 31);
        return request('guest-sync-delimited', { id }, 1_000).then(() => true, () => false);
      },
      'the guest agent in the VM to answer',
      { deadlineMs, everyMs: 0 },
    );
  return { request, sync, close: channel.close };
}

/** Parses the binary PPM (P6) QEMU's screendump writes. */
function parsePpm(data) {
  const header = [];
  let offset = 0;
  while (header.length < 4) {
    while (/\s/.test(String.fromCharCode(data[offset]))) offset++;
    const start = offset;
    while (!/\s/.test(String.fromCharCode(data[offset]))) offset++;
    header.push(data.subarray(start, offset).toString('latin1'));
  }
  const [magic, max] = [header[0], header[3]];
  const [width, height] = [Number(header[1]), Number(header[2])];
  if (magic !== 'P6' || max !== '255') throw new Error(`screendump: not an 8-bit P6 PPM (${header.join(' ')})`);
  const rgb = data.subarray(offset + 1); // one whitespace byte ends the header
  if (rgb.length !== width * height * 3) throw new Error(`screendump: ${rgb.length} bytes for ${width}×${height}`);
  return { width, height, rgb };
}

/**
 * Boots the VM, its disk from the cached image in snapshot mode, with
 * `share` (a host directory) mounted at /host, a `width`×`height` VGA
 * monitor and `forwards` (`[{ host, guest }]` TCP ports: the host's
 * 127.0.0.1:`host` reaches the VM's `guest`). Resolves, once Xorg in the VM
 * answers xdpyinfo, to:
 * - `run(command, { timeoutMs, env })` → `{ code, signal, stdout, stderr }`:
 *   `command` run by /bin/sh as root with DISPLAY=:0, killed (and an error
 *   thrown) after `timeoutMs`. It resolves once the command and everything
 *   holding its stdout or stderr has ended: something meant to keep running
 *   goes to the background with its output redirected
 *   (`setsid prog >/host/prog.log 2>&1 </dev/null &`).
 * - `qmp(command, args)`: any QMP command, resolving to its `return`.
 * - `sendKeys(qcodes)`: QEMU's send-key, the keys pressed together then
 *   released (`['ctrl', 'alt', 'f1']`, or one key); `pressKey(qcode, down)`
 *   one key event. Qcodes are QEMU's names: `a`, `ret`, `shift`, `esc`…
 * - `moveMouse(x, y)`: the USB tablet to screen pixel (x, y) (absolute);
 *   `click(button)` presses and releases `left`, `middle` or `right` there.
 * - `screendump()` → `{ width, height, rgb }`, what the VM's monitor shows.
 * - `bootMs`, `accel` (`kvm` or `tcg`), `args` (QEMU's command line),
 *   `output` (its console and messages) and `stop()`.
 */
export async function startVm({
  share,
  memoryMb = 1024,
  cpus = 2,
  width = 1280,
  height = 720,
  forwards = [],
  deadlineMs = 120_000,
}) {
  const started = Date.now();
  if (!share) throw new Error('startVm needs `share`, a host directory to mount at /host in the VM');
  const images = vmDir();
  for (const file of ['rootfs.img', 'vmlinuz', 'initrd.img']) {
    await access(path.join(images, file)).catch(() => {
      throw new Error(`no VM image in ${images} (${file} missing): build it with \`sudo bash scripts/vm-image.sh\``);
    });
  }
  const accel = await pickAccelerator();
  const dir = await mkdtemp(path.join(tmpdir(), 'tether-e2e-vm-'));
  const qmpSocket = path.join(dir, 'qmp.sock');
  const agentSocket = path.join(dir, 'agent.sock');
  const hostfwd = forwards.map(({ host, guest }) => `,hostfwd=tcp:127.0.0.1:${host}-:${guest}`).join('');
  const args = [
    // KVM on the host's CPU, else QEMU's emulator with a thread per CPU.
    ...(accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,thread=multi', '-cpu', 'max']),
    '-m', String(memoryMb), '-smp', String(cpus),
    '-nodefaults', '-no-user-config', '-no-reboot', '-display', 'none',
    '-kernel', path.join(images, 'vmlinuz'),
    '-initrd', path.join(images, 'initrd.img'),
    '-append', 'root=/dev/vda rw console=ttyS0 quiet',
    '-drive', `file=${path.join(images, 'rootfs.img')},format=raw,if=virtio,snapshot=on`,
    // Standard VGA (bochs-drm, Xorg's modesetting); its EDID offers width×height first.
    '-device', `VGA,xres=${width},yres=${height}`,
    // The PS/2 keyboard comes with the machine; the tablet gives absolute pointing.
    '-device', 'qemu-xhci', '-device', 'usb-tablet',
    '-virtfs', `local,path=${share},mount_tag=host,security_model=none`,
    '-netdev', `user,id=net${hostfwd}`, '-device', 'virtio-net-pci,netdev=net,romfile=',
    '-device', 'virtio-serial',
    '-chardev', `socket,id=agent,path=${agentSocket},server=on,wait=off`,
    '-device', 'virtserialport,chardev=agent,name=org.qemu.guest_agent.0',
    '-qmp', `unix:${qmpSocket},server=on,wait=off`,
    '-chardev', 'stdio,id=console,signal=off', '-serial', 'chardev:console',
  ];
  const qemu = startProcess('qemu-system-x86_64', args, {
    labels: { stdout: 'vm', stderr: 'qemu' },
    // Without systemd's colours and the serial console's carriage returns.
    clean: (line) => line.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, ''),
  });
  const { child, output, running } = qemu;
  // A test process that ends without stop() must not leave a VM spinning.
  const killOnExit = () => {
    if (running()) process.kill(child.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  let qmp = null;
  let agent = null;
  const stop = async () => {
    process.off('exit', killOnExit);
    qmp?.close();
    agent?.close();
    await qemu.stop();
    await rm(dir, { recursive: true, force: true });
  };
  const alive = () => {
    const startError = qemu.startError();
    if (startError) throw new Error(`cannot start qemu-system-x86_64 (Debian package qemu-system-x86): ${startError.message}`);
    if (!running()) throw new Error(`QEMU exited early:\n${output.slice(-40).join('\n')}`);
  };

  const run = async (command, { timeoutMs = 30_000, env = {} } = {}) => {
    alive();
    const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    const began = Date.now();
    const environment = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', DISPLAY: ':0', ...env };
    // `timeout` kills the command's whole process group in the VM itself.
    const { pid } = await agent.request('guest-exec', {
      path: '/usr/bin/timeout',
      arg: ['--kill-after=2', `${seconds}s`, '/bin/sh', '-c', command],
      env: Object.entries(environment).map(([name, value]) => `${name}=${value}`),
      'capture-output': true,
    });
    const status = await until(
      async () => {
        alive();
        const state = await agent.request('guest-exec-status', { pid });
        return state.exited && state;
      },
      `${JSON.stringify(command)} to finish in the VM (does something in the background hold its output?)`,
      { deadlineMs: seconds * 1000 + 5_000, everyMs: 20 },
    );
    const decode = (data) => Buffer.from(data ?? '', 'base64').toString('utf8');
    const result = {
      code: status.exitcode ?? null,
      signal: status.signal ?? null,
      stdout: decode(status['out-data']),
      stderr: decode(status['err-data']),
    };
    // 124: `timeout` stopped it; 137: it had to kill it too.
    if (result.code === 124 || (result.code === 137 && Date.now() - began >= seconds * 1000)) {
      throw new Error(`${JSON.stringify(command)} timed out in the VM after ${timeoutMs} ms\n${result.stdout}${result.stderr}`);
    }
    return result;
  };

  try {
    await until(
      async () => {
        alive();
        qmp = await connectQmp(qmpSocket).catch(() => null);
        return qmp;
      },
      'QEMU monitor socket',
      { deadlineMs: 10_000 },
    );
    agent = await connectGuestAgent(agentSocket);
    await agent.sync(deadlineMs - (Date.now() - started), alive);
    await until(
      // A server still starting may keep xdpyinfo waiting: try again.
      async () => (await run('xdpyinfo >/dev/null 2>&1', { timeoutMs: 5_000 }).catch(() => ({}))).code === 0,
      'Xorg in the VM to answer on :0',
      { deadlineMs: Math.max(1_000, deadlineMs - (Date.now() - started)), everyMs: 200, describe: () => output.slice(-10) },
    );
  } catch (error) {
    await stop();
    throw error;
  }

  const command = (execute, commandArgs) => qmp.command(execute, commandArgs);
  const inputEvents = (events) => command('input-send-event', { events });
  // The tablet's axes run from 0 to 32767 across the whole screen, about
  // 32768 / size values to a pixel: aim at the middle of a pixel's values so
  // that the guest's rounding cannot land on its neighbour.
  const scale = (value, size) => Math.min(0x7fff, Math.round(((value + 0.5) * 0x8000) / size));
  return {
    accel,
    args,
    bootMs: Date.now() - started,
    output,
    run,
    qmp: command,
    sendKeys: (qcodes) => command('send-key', { keys: qcodes.map((data) => ({ type: 'qcode', data })) }),
    pressKey: (qcode, down) => inputEvents([{ type: 'key', data: { key: { type: 'qcode', data: qcode }, down } }]),
    moveMouse: (x, y) =>
      inputEvents([
        { type: 'abs', data: { axis: 'x', value: scale(x, width) } },
        { type: 'abs', data: { axis: 'y', value: scale(y, height) } },
      ]),
    // Paced like a hand, not to be taken for noise: libinput in the VM
    // drops a press within 25 ms of a release as a bouncing switch, and
    // QEMU merges a move into a release the guest has not read yet. (In
    // one request, press and release even share a USB report: no click.)
    click: async (button = 'left') => {
      await inputEvents([{ type: 'btn', data: { button, down: true } }]);
      await delay(50);
      await inputEvents([{ type: 'btn', data: { button, down: false } }]);
      await delay(50);
    },
    screendump: async () => {
      const file = path.join(dir, 'screen.ppm');
      await command('screendump', { filename: file });
      const image = parsePpm(await readFile(file));
      await rm(file, { force: true });
      return image;
    },
    stop,
  };
}
