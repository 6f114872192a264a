// In-page measurement, injected into the controller page before its own
// scripts (page.addInitScript). It keeps every RTCPeerConnection the page
// makes, reads the time code (bench/timecode.py) out of each decoded frame
// the <video> presents, and answers window.__bench.start()/stop() with
// latency samples and inbound-rtp deltas for the window in between.
(() => {
  const CELL = 16;
  const BITS = 24;
  const CODE_X = 32;
  const CODE_Y = 32;
  const MASK = (1 << BITS) - 1;
  const peers = [];
  const Native = window.RTCPeerConnection;
  if (!Native) return;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      peers.push(this);
    }
  };

  const state = {
    video: null,
    lastCode: null,
    frames: 0,
    decoded: 0,
    undecodable: 0,
    samples: null,
    receiverSide: [],
    busy: false,
    width: 0,
    height: 0,
    errors: [],
  };

  /** Reads the 24-bit code from a luma buffer of the code block, or null. */
  function readCode(luma, stride) {
    let value = 0;
    for (let i = 0; i < BITS; i += 1) {
      const x = i * CELL + CELL / 2 - 1;
      const at = (y) => (luma[y * stride + x] + luma[y * stride + x + 1] + luma[(y + 1) * stride + x] + luma[(y + 1) * stride + x + 1]) / 4;
      const top = at(CELL / 2 - 1);
      const bottom = at(CELL + CELL / 2 - 1);
      if (Math.abs(top - bottom) < 60) return null;
      value = value * 2 + (top > bottom ? 1 : 0);
    }
    return value;
  }

  /** The code block's luma (Y plane, or computed from RGB) and its stride. */
  async function lumaOf(frame) {
    const rect = { x: CODE_X, y: CODE_Y, width: CELL * BITS, height: CELL * 2 };
    const format = frame.format;
    const buffer = new Uint8Array(frame.allocationSize({ rect }));
    const layout = await frame.copyTo(buffer, { rect });
    if (format && (format.startsWith('I4') || format.startsWith('NV12'))) {
      return { luma: buffer.subarray(layout[0].offset), stride: layout[0].stride };
    }
    if (format && /^(RGB|BGR)[AX]$/.test(format)) {
      const { stride, offset } = layout[0];
      const luma = new Uint8Array(rect.width * rect.height);
      const [r, b] = format.startsWith('RGB') ? [0, 2] : [2, 0];
      for (let y = 0; y < rect.height; y += 1) {
        for (let x = 0; x < rect.width; x += 1) {
          const p = offset + y * stride + x * 4;
          luma[y * rect.width + x] = 0.2126 * buffer[p + r] + 0.7152 * buffer[p + 1] + 0.0722 * buffer[p + b];
        }
      }
      return { luma, stride: rect.width };
    }
    throw new Error(`unexpected VideoFrame format ${format}`);
  }

  async function onFrame(now, metadata) {
    const video = state.video;
    video.requestVideoFrameCallback(onFrame);
    state.frames += 1;
    if (state.busy) return; // never queue reads behind one another
    state.busy = true;
    // The wall clock of the moment the frame is shown: performance time to
    // Unix time, corrected for drift between the two clocks since page load.
    const drift = Date.now() - (performance.timeOrigin + performance.now());
    const shownAt = performance.timeOrigin + metadata.expectedDisplayTime + drift;
    let frame = null;
    try {
      frame = new VideoFrame(video);
      state.width = frame.displayWidth;
      state.height = frame.displayHeight;
      const { luma, stride } = await lumaOf(frame);
      const code = readCode(luma, stride);
      if (code === null) {
        state.undecodable += 1;
      } else {
        state.decoded += 1;
        if (code !== state.lastCode) {
          state.lastCode = code;
          let latency = (((Math.round(shownAt) - code) % (MASK + 1)) + MASK + 1) % (MASK + 1);
          if (latency > MASK / 2) latency -= MASK + 1;
          if (state.samples) {
            state.samples.push(latency);
            // Where the time went: until the frame's last packet arrived
            // (sender + network), and from there to the display (receiver).
            if (metadata.receiveTime) {
              const receivedAt = performance.timeOrigin + metadata.receiveTime + drift;
              state.receiverSide.push(shownAt - receivedAt);
            }
          }
        }
      }
    } catch (error) {
      if (state.errors.length < 5) state.errors.push(String(error));
    } finally {
      frame?.close();
      state.busy = false;
    }
  }

  function attach() {
    const video = document.querySelector('video[data-testid="remote-video"]') ?? document.querySelector('video');
    if (!video || video === state.video || !video.srcObject) return;
    state.video = video;
    video.muted = true;
    video.requestVideoFrameCallback(onFrame);
  }
  setInterval(attach, 100);

  async function inbound() {
    for (const peer of peers) {
      if (peer.connectionState === 'closed') continue;
      const report = await peer.getStats();
      for (const stats of report.values()) {
        if (stats.type === 'inbound-rtp' && stats.kind === 'video') {
          return { ...stats, at: performance.now() };
        }
      }
    }
    return null;
  }

  let startStats = null;
  let startFrames = 0;
  let startDecoded = 0;
  let startUndecodable = 0;
  window.__bench = {
    /** What the probe sees so far (for waiting until frames flow). */
    status: () => ({
      attached: Boolean(state.video),
      frames: state.frames,
      decoded: state.decoded,
      undecodable: state.undecodable,
      width: state.width,
      height: state.height,
      errors: state.errors,
    }),
    async start() {
      state.samples = [];
      state.receiverSide = [];
      startStats = await inbound();
      startFrames = state.frames;
      startDecoded = state.decoded;
      startUndecodable = state.undecodable;
    },
    async stop() {
      const end = await inbound();
      const samples = state.samples ?? [];
      state.samples = null;
      const seconds = end && startStats ? (end.at - startStats.at) / 1000 : 0;
      const delta = (key) => (end && startStats ? (end[key] ?? 0) - (startStats[key] ?? 0) : 0);
      const bytes = delta('bytesReceived') + delta('headerBytesReceived');
      return {
        seconds,
        samples,
        receiverSide: state.receiverSide,
        presented: state.frames - startFrames,
        decodedCodes: state.decoded - startDecoded,
        undecodable: state.undecodable - startUndecodable,
        framesDecoded: delta('framesDecoded'),
        framesDropped: delta('framesDropped'),
        packetsLost: delta('packetsLost'),
        keyFrames: delta('keyFramesDecoded'),
        jitterBufferMs: delta('jitterBufferEmittedCount') > 0 ? (1000 * delta('jitterBufferDelay')) / delta('jitterBufferEmittedCount') : null,
        decodeMs: delta('framesDecoded') > 0 ? (1000 * delta('totalDecodeTime')) / delta('framesDecoded') : null,
        kbps: seconds > 0 ? (bytes * 8) / seconds / 1000 : null,
        fps: seconds > 0 ? delta('framesDecoded') / seconds : null,
        width: end?.frameWidth ?? state.width,
        height: end?.frameHeight ?? state.height,
        codec: end?.decoderImplementation ?? null,
        errors: state.errors,
      };
    },
  };
})();
