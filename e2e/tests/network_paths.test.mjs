// Sessions through networks that let no UDP out: the agent runs in a
// network namespace of its own (lib/netns.mjs) whose firewall lets out
// only TCP to the server's port and to the embedded relay's (the same
// port number as its UDP); every UDP packet out of the namespace is
// dropped. The session still comes up: the agent reaches the relay over
// TCP (its tunnel, agent/src/session/turn_tunnel.rs), the relay relays to
// Chromium over UDP, and frames decode; the selected candidate pair is
// relayed through the embedded relay, and the page's connection line says
// so — the computer reaching the relay over TCP.

import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
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

/** The port the embedded relay says it listens on (UDP and TCP). */
function relayPort(server) {
  const line = server.output.find((text) => text.includes('embedded TURN relay listening'));
  const port = line?.match(/local_addr=\S+:(\d+)/)?.[1];
  if (!port) throw new Error(`the server named no relay address:\n${server.output.join('\n')}`);
  return Number(port);
}

/** Sends one UDP datagram from inside the namespace; resolves to 'sent' or the error. */
async function udpFromInside(prefix, host, port) {
  const script = `
    const socket = require('node:dgram').createSocket('udp4');
    socket.send('x', ${Number(port)}, ${JSON.stringify(host)}, (error) => { console.log(error ? 'error ' + error.code : 'sent'); socket.close(); });`;
  const [command, ...args] = [...prefix, process.execPath, '-e', script];
  return (await run(command, args)).trim();
}

describe('network paths', () => {
  let live;
  let netns;

  before(async () => {
    netns = await createNetns();
    live = await startLiveSession({
      name: 'network-paths',
      tech: TECH,
      netns,
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
    const first = await until(async () => {
      const stats = await videoStats(page);
      return stats?.framesDecoded > 0 && stats;
    }, 'frames to decode', { deadlineMs: LIVE_DEADLINE_MS, describe: () => videoStats(page) });
    await until(async () => (await videoStats(page)).framesDecoded > first.framesDecoded + 2, 'more frames to decode', {
      deadlineMs: LIVE_DEADLINE_MS,
      describe: () => videoStats(page),
    });
    const pair = await until(() => selectedPair(page), 'a selected candidate pair', { deadlineMs: 5_000 });
    // The agent's end is the relay's address: relayed, and only TCP gets out of its network.
    assert.equal(pair.remote.type, 'relay', `the agent's end is not relayed: ${JSON.stringify(pair)}`);
    assert.ok(pair.remote.address.startsWith(`${netns.hostIp}:`), `not the embedded relay: ${JSON.stringify(pair)}`);
    // The connection line says so: relayed, the computer reaching the relay over TCP.
    const relay = `${netns.hostIp}:${relayPort(live.server)}`;
    await showsText(page, 'connection-route', `Relayed through ${relay}: you over UDP, the computer over TCP (no direct path was found)`);
  });
});
