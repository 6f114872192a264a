// Sessions through networks that let no UDP out: the agent runs in a
// network namespace of its own (lib/netns.mjs) whose firewall lets out
// only TCP to the server's port and to the embedded relay's (the same
// port number as its UDP); every UDP packet out of the namespace is
// dropped. The session still comes up: the agent reaches the relay over
// TCP (its tunnel, agent/src/session/turn_tunnel.rs), the relay relays to
// Chromium over UDP, and frames decode; the selected candidate pair is
// relayed through the embedded relay, and the page's connection line says
// so — the computer reaching the relay over TCP. Then the firewall lets
// out only TCP to the server and to the relay's TLS port: a new session
// comes up through TURN over TLS (the relay's certificate, made here with
// openssl for its address, is what the agent trusts: SSL_CERT_FILE).

import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { stepRunner } from '../lib/steps.mjs';
import { showsText, visible } from '../lib/ui.mjs';
import { LIVE_DEADLINE_MS, startLiveSession } from '../lib/live.mjs';
import { createNetns, run } from '../lib/netns.mjs';
import { selectedPair, videoStats } from '../lib/rtc.mjs';
import { until } from '../lib/wait.mjs';

const TECH = {
  username: 'tess',
  displayName: 'Tess Technician',
  role: 'technician',
  password: 'tess-one-time-pass-1',
  newPassword: 'tess-battery-staple-7',
};

/** The port the embedded relay says it listens on (UDP and TCP; `tls`: its TLS port). */
function relayPort(server, { tls = false } = {}) {
  const line = server.output.find((text) => text.includes(tls ? 'embedded TURN relay listening (TLS)' : 'embedded TURN relay listening (UDP'));
  const port = line?.match(tls ? /tls_addr=\S+:(\d+)/ : /local_addr=\S+:(\d+)/)?.[1];
  if (!port) throw new Error(`the server named no relay address:\n${server.output.join('\n')}`);
  return Number(port);
}

/**
 * A certificate authority and a certificate it signed for `ip`, in `dir`:
 * `{ ca, cert, key }` paths (PEM), made with openssl.
 */
async function certificates(dir, ip) {
  const file = (name) => path.join(dir, name);
  const openssl = (args) => promisify(execFile)('openssl', args);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(['req', '-x509', ...ec, '-days', '1', '-subj', '/CN=Tether e2e CA', '-keyout', file('ca.key'), '-out', file('ca.pem')]);
  await openssl(['req', ...ec, '-subj', '/CN=tether-e2e-relay', '-keyout', file('key.pem'), '-out', file('relay.csr')]);
  await writeFile(file('relay.ext'), `subjectAltName=IP:${ip}\nbasicConstraints=CA:FALSE\n`);
  await openssl([
    'x509', '-req', '-in', file('relay.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial',
    '-days', '1', '-extfile', file('relay.ext'), '-out', file('cert.pem'),
  ]);
  return { ca: file('ca.pem'), cert: file('cert.pem'), key: file('key.pem') };
}

/** Sends one UDP datagram from inside the namespace; resolves to 'sent' or the error. */
async function udpFromInside(prefix, host, port) {
  const script = `
    const socket = require('node:dgram').createSocket('udp4');
    socket.send('x', ${Number(port)}, ${JSON.stringify(host)}, (error) => { console.log(error ? 'error ' + error.code : 'sent'); socket.close(); });`;
  const [command, ...args] = [...prefix, process.execPath, '-e', script];
  return (await run(command, args)).trim();
}

/** Waits until the page decodes frames, and then a few more. */
async function framesKeepComing(page) {
  const first = await until(async () => {
    const stats = await videoStats(page);
    return stats?.framesDecoded > 0 && stats;
  }, 'frames to decode', { deadlineMs: LIVE_DEADLINE_MS, describe: () => videoStats(page) });
  await until(async () => (await videoStats(page)).framesDecoded > first.framesDecoded + 2, 'more frames to decode', {
    deadlineMs: LIVE_DEADLINE_MS,
    describe: () => videoStats(page),
  });
}

describe('network paths', () => {
  let live;
  let netns;
  let certDir;

  before(async () => {
    netns = await createNetns();
    certDir = await mkdtemp(path.join(tmpdir(), 'tether-e2e-tls-'));
    const { ca, cert, key } = await certificates(certDir, netns.hostIp);
    live = await startLiveSession({
      name: 'network-paths',
      tech: TECH,
      netns,
      serverArgs: ['--embedded-turn-tls', `${netns.hostIp}:0`, '--tls-cert', cert, '--tls-key', key],
      agentEnv: { SSL_CERT_FILE: ca },
      beforeAgent: async ({ server }) => {
        const serverPort = Number(new URL(server.url).port);
        await netns.allowOnly([
          { protocol: 'tcp', port: serverPort },
          { protocol: 'tcp', port: relayPort(server) },
        ]);
      },
    });
  });

  after(async () => {
    await live?.stop();
    await netns?.remove();
    if (certDir) await rm(certDir, { recursive: true, force: true });
  });

  const step = stepRunner('network-paths', () => live?.diagnostics() ?? {});

  step('with every UDP packet out of its network dropped, the agent\'s session comes up through the embedded relay over TCP', async () => {
    // The firewall is in force: UDP to the relay's port does not leave.
    assert.match(await udpFromInside(netns.prefix, netns.hostIp, relayPort(live.server)), /^error EPERM$/);
    const { page } = live;
    await live.openSession();
    await showsText(page, 'page-title', 'Live session');
    await visible(page, 'remote-video');
    await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor({ timeout: LIVE_DEADLINE_MS * 2 });
    await framesKeepComing(page);
    const pair = await until(() => selectedPair(page), 'a selected candidate pair', { deadlineMs: 5_000 });
    // The agent's end is the relay's address: relayed, and only TCP gets out of its network.
    assert.equal(pair.remote.type, 'relay', `the agent's end is not relayed: ${JSON.stringify(pair)}`);
    assert.ok(pair.remote.address.startsWith(`${netns.hostIp}:`), `not the embedded relay: ${JSON.stringify(pair)}`);
    // The connection line says so: relayed, the computer reaching the relay over TCP.
    const relay = `${netns.hostIp}:${relayPort(live.server)}`;
    await showsText(page, 'connection-route', `Relayed through ${relay}: you over UDP, the computer over TCP (no direct path was found)`);
  });

  step('with only TLS to the relay let out, a new session comes up through TURN over TLS', async () => {
    const { page } = live;
    await page.getByTestId('end-session').click();
    await showsText(page, 'page-title', 'Targets');
    await netns.allowOnly([
      { protocol: 'tcp', port: Number(new URL(live.server.url).port) },
      { protocol: 'tcp', port: relayPort(live.server, { tls: true }) },
    ]);
    // Still signed in: straight from Targets.
    await live.targetRow().locator('[data-testid="target-status"][data-status="online"]').waitFor({ timeout: LIVE_DEADLINE_MS });
    await live.targetRow().getByTestId('target-connect').click();
    await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor({ timeout: LIVE_DEADLINE_MS * 2 });
    const relay = `${netns.hostIp}:${relayPort(live.server)}`;
    await showsText(page, 'connection-route', `Relayed through ${relay}: you over UDP, the computer over TLS (no direct path was found)`);
    await framesKeepComing(page);
  });
});
