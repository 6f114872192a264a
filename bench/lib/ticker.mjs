// Keeps a bare Xvfb's picture changing without extra packages: a tiny X11
// client written straight onto the display's Unix socket, which fills one
// small square of the root window in alternating colours `hz` times a
// second. An idle screen makes Tether send a refresh only once a second;
// with the square ticking, frames flow steadily (about `hz` a second), so
// "when did the video stop" can be told to within a frame interval.
//
// Only three core requests are used (CreateGC, ChangeGC,
// PolyFillRectangle), none of which has a reply; whatever the server sends
// back (an error, which should not happen) is counted and otherwise ignored.

import { createConnection } from 'node:net';

const OPCODE = { CreateGC: 55, ChangeGC: 56, PolyFillRectangle: 70 };
const GC_FOREGROUND = 1 << 2;

/** Reads the connection setup reply: resolves to `{ idBase, root, width, height }`. */
function readSetup(socket) {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const onData = (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length < 8) return;
      const total = 8 + 4 * buffer.readUInt16LE(6);
      if (buffer.length < total) return;
      socket.off('data', onData);
      const status = buffer[0];
      if (status !== 1) {
        const reason = status === 0 ? buffer.subarray(8, 8 + buffer[1]).toString('latin1') : 'the server wants authentication';
        reject(new Error(`X connection refused: ${reason}`));
        return;
      }
      const idBase = buffer.readUInt32LE(12);
      const vendorLength = buffer.readUInt16LE(24);
      const formats = buffer[29];
      const screen = 40 + Math.ceil(vendorLength / 4) * 4 + 8 * formats;
      resolve({
        idBase,
        root: buffer.readUInt32LE(screen),
        width: buffer.readUInt16LE(screen + 20),
        height: buffer.readUInt16LE(screen + 22),
      });
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

/**
 * Starts ticking on `display` (":140"): a `size`-pixel square at (`x`, `y`)
 * of the root window, alternating between two colours `hz` times a second.
 * Resolves to `{ ticks(), errors(), stop() }`.
 */
export async function startTicker(display, { x = 64, y = 400, size = 48, hz = 30 } = {}) {
  const number = display.replace(/^:/, '').split('.')[0];
  const socket = createConnection({ path: `/tmp/.X11-unix/X${number}` });
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  // Little-endian, protocol 11.0, no authorisation (a bare Xvfb lets local clients in).
  const hello = Buffer.alloc(12);
  hello.write('l', 0, 'latin1');
  hello.writeUInt16LE(11, 2);
  hello.writeUInt16LE(0, 4);
  socket.write(hello);
  const { idBase, root } = await readSetup(socket);
  let errors = 0;
  socket.on('data', (chunk) => {
    // Errors and events are 32 bytes each; an error starts with 0.
    for (let at = 0; at + 32 <= chunk.length; at += 32) if (chunk[at] === 0) errors += 1;
  });
  socket.on('error', () => {});

  const gc = idBase | 1;
  const createGc = Buffer.alloc(20);
  createGc.writeUInt8(OPCODE.CreateGC, 0);
  createGc.writeUInt16LE(5, 2);
  createGc.writeUInt32LE(gc, 4);
  createGc.writeUInt32LE(root, 8);
  createGc.writeUInt32LE(GC_FOREGROUND, 12);
  createGc.writeUInt32LE(0x202020, 16);
  socket.write(createGc);

  const colours = [0x3070c0, 0xe0a020];
  let ticks = 0;
  const tick = () => {
    const request = Buffer.alloc(36);
    // ChangeGC: the foreground.
    request.writeUInt8(OPCODE.ChangeGC, 0);
    request.writeUInt16LE(4, 2);
    request.writeUInt32LE(gc, 4);
    request.writeUInt32LE(GC_FOREGROUND, 8);
    request.writeUInt32LE(colours[ticks % 2], 12);
    // PolyFillRectangle: the square.
    request.writeUInt8(OPCODE.PolyFillRectangle, 16);
    request.writeUInt16LE(5, 18);
    request.writeUInt32LE(root, 20);
    request.writeUInt32LE(gc, 24);
    request.writeInt16LE(x, 28);
    request.writeInt16LE(y, 30);
    request.writeUInt16LE(size, 32);
    request.writeUInt16LE(size, 34);
    socket.write(request);
    ticks += 1;
  };
  tick();
  const timer = setInterval(tick, 1000 / hz);
  return {
    ticks: () => ticks,
    errors: () => errors,
    stop: () => {
      clearInterval(timer);
      socket.destroy();
    },
  };
}
