// Test instrumentation for the controller page's WebRTC: an init script
// that keeps a reference to every RTCPeerConnection and RTCDataChannel the
// page creates (the product code is unchanged), and helpers that read
// their stats, sample the decoded picture and write raw data-channel
// messages.

import assert from 'node:assert/strict';

/** Runs in the page before its own scripts; stores references in `window.__tetherProbe`. */
function installProbe() {
  const probe = { peers: [], channels: [] };
  Object.defineProperty(window, '__tetherProbe', { value: probe });
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = new Proxy(Native, {
    construct(target, args, newTarget) {
      const peer = Reflect.construct(target, args, newTarget);
      probe.peers.push(peer);
      return peer;
    },
  });
  const createDataChannel = Native.prototype.createDataChannel;
  Native.prototype.createDataChannel = function (...args) {
    const channel = createDataChannel.apply(this, args);
    probe.channels.push(channel);
    return channel;
  };
}

/** Instruments every page of `context` opened from now on. */
export function instrumentWebRtc(context) {
  return context.addInitScript(installProbe);
}

/**
 * The latest peer connection's inbound video stats, or `null` before there
 * are any: `{ framesDecoded, frameWidth, frameHeight, codec, connectionState }`.
 */
export function videoStats(page) {
  return page.evaluate(async () => {
    const peer = window.__tetherProbe.peers.at(-1);
    if (!peer) return null;
    const report = await peer.getStats();
    const inbound = [...report.values()].find((s) => s.type === 'inbound-rtp' && s.kind === 'video');
    if (!inbound) return null;
    const codec = inbound.codecId ? report.get(inbound.codecId) : undefined;
    return {
      framesDecoded: inbound.framesDecoded ?? 0,
      frameWidth: inbound.frameWidth ?? 0,
      frameHeight: inbound.frameHeight ?? 0,
      codec: codec ? `${codec.mimeType} ${codec.sdpFmtpLine ?? ''}`.trim() : null,
      connectionState: peer.connectionState,
    };
  });
}

/**
 * The decoded picture's colour around each of `points` (`{ x, y }` in
 * remote pixels): the mean of a `(2 * radius + 1)²` patch, as `[r, g, b]`.
 * Resolves to `{ width, height, colours }`, or `null` while the video has
 * no frame.
 */
export function sampleVideo(page, points, radius = 3) {
  return page.evaluate(
    ({ points, radius }) => {
      const video = document.querySelector('[data-testid="remote-video"]');
      if (!video || video.readyState < 2 || !video.videoWidth || !video.videoHeight) return null;
      const { videoWidth: width, videoHeight: height } = video;
      const canvas = document.createElement('canvas');
      canvas.width = width;
      canvas.height = height;
      const context = canvas.getContext('2d', { willReadFrequently: true });
      context.drawImage(video, 0, 0, width, height);
      const side = 2 * radius + 1;
      const colours = points.map(({ x, y }) => {
        const { data } = context.getImageData(x - radius, y - radius, side, side);
        const sum = [0, 0, 0];
        for (let i = 0; i < data.length; i += 4) {
          sum[0] += data[i];
          sum[1] += data[i + 1];
          sum[2] += data[i + 2];
        }
        return sum.map((total) => Math.round(total / (side * side)));
      });
      return { width, height, colours };
    },
    { points, radius },
  );
}

/**
 * The page (CSS pixel) position over the remote screen's pixel `(x, y)` in
 * the `<video>`, which shows the picture letterboxed (`object-fit:
 * contain`): the centre of that pixel, and `perPixel`, CSS pixels per
 * screen pixel. `screen` (`{ width, height }`) is the remote screen's size
 * when the stream is scaled down from it; by default the stream's own.
 */
export function pagePointOf(page, { x, y }, screen = null) {
  return page.evaluate(({ x, y, screen }) => {
    const video = document.querySelector('[data-testid="remote-video"]');
    const rect = video.getBoundingClientRect();
    const scale = Math.min(rect.width / video.videoWidth, rect.height / video.videoHeight);
    const left = rect.left + (rect.width - video.videoWidth * scale) / 2;
    const top = rect.top + (rect.height - video.videoHeight * scale) / 2;
    const { width, height } = screen ?? { width: video.videoWidth, height: video.videoHeight };
    const perPixel = (video.videoWidth * scale) / width;
    return { x: left + (x + 0.5) * perPixel, y: top + (y + 0.5) * ((video.videoHeight * scale) / height), perPixel };
  }, { x, y, screen });
}

/**
 * Clicks the picture over the remote screen's pixel `at` and waits until
 * `scene` (lib/scene.mjs) saw the left button pressed and released there.
 * Mouse events carry whole CSS pixels, so a picture shrunk to fit the page
 * may land up to one CSS pixel's worth of screen pixels off. When the
 * picture shows a part of the screen (one monitor), `at` is within it and
 * `origin` is its corner on the screen. Resolves to the scene event index
 * the click's events start from.
 */
export async function clickAndExpect(page, scene, at, screen = null, origin = { x: 0, y: 0 }) {
  const from = scene.events.length;
  const point = await pagePointOf(page, at, screen);
  await page.mouse.click(point.x, point.y);
  const tolerance = Math.max(1, Math.ceil(1 / point.perPixel));
  const [rootX, rootY] = [origin.x + at.x, origin.y + at.y];
  const near = (event) => Math.abs(event.root_x - rootX) <= tolerance && Math.abs(event.root_y - rootY) <= tolerance;
  const press = await scene.waitFor((e) => e.event === 'button_press', `a button press near ${JSON.stringify(at)}`, { from });
  assert.equal(press.button, 1, `not the left button: ${JSON.stringify(press)}`);
  assert.ok(near(press), `X saw the press at (${press.root_x}, ${press.root_y}), the browser clicked over (${rootX}, ${rootY})`);
  const release = await scene.waitFor((e) => e.event === 'button_release', 'the button release', { from });
  assert.equal(release.button, 1);
  assert.ok(near(release), `X saw the release at (${release.root_x}, ${release.root_y})`);
  return from;
}

/**
 * Sends `messages` as they are on the page's open data channel `label`
 * (strings as text, `{ bytes: [...] }` as binary), bypassing the
 * controller's encoder. Resolves to how many were sent; throws if the
 * channel is not open.
 */
export function sendRaw(page, label, messages) {
  return page.evaluate(
    ({ label, messages }) => {
      const channel = window.__tetherProbe.channels.findLast((c) => c.label === label && c.readyState === 'open');
      if (!channel) throw new Error(`no open data channel labelled ${label}`);
      for (const message of messages) {
        channel.send(typeof message === 'string' ? message : new Uint8Array(message.bytes));
      }
      return messages.length;
    },
    { label, messages },
  );
}

/**
 * The page's selected ICE candidate pair (the transport's, else the
 * nominated succeeded one) with both candidates' types and addresses, or
 * `null` before there is one.
 */
export function selectedPair(page) {
  return page.evaluate(async () => {
    const peer = window.__tetherProbe.peers.at(-1);
    if (!peer) return null;
    const report = await peer.getStats();
    const stats = [...report.values()];
    const transport = stats.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
    const pair = transport
      ? report.get(transport.selectedCandidatePairId)
      : stats.find((s) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded');
    if (!pair || pair.state !== 'succeeded') return null;
    const describe = (id) => {
      const candidate = report.get(id);
      return candidate && { type: candidate.candidateType, address: `${candidate.address}:${candidate.port}` };
    };
    return { local: describe(pair.localCandidateId), remote: describe(pair.remoteCandidateId) };
  });
}
