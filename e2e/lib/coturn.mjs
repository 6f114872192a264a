// Debian's coturn as a test broker: a generated configuration with TURN REST
// credentials (`use-auth-secret`, the server's `--turn-secret`), listening
// and relaying on one address, stopped by its PID.

import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startProcess } from './process.mjs';
import { until } from './wait.mjs';

/** A UDP port free on `ip` just now. */
async function freeUdpPort(ip) {
  const socket = dgram.createSocket('udp4');
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, ip, resolve);
  });
  const { port } = socket.address();
  await new Promise((resolve) => socket.close(resolve));
  return port;
}

/** Whether a STUN Binding request to `ip:port` is answered within `waitMs`. */
async function answersBinding(ip, port, waitMs = 250) {
  const socket = dgram.createSocket('udp4');
  const id = randomBytes(12);
  // Binding request, no attributes, the magic cookie, a transaction id.
  const request = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), id]);
  try {
    return await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), waitMs);
      socket.on('message', (message) => {
        if (message.length >= 20 && message.readUInt16BE(0) === 0x0101 && message.subarray(8, 20).equals(id)) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      socket.once('error', () => {
        clearTimeout(timer);
        resolve(false);
      });
      socket.send(request, port, ip);
    });
  } finally {
    socket.close();
  }
}

/**
 * Starts coturn on `ip` (listening and relay address) with TURN REST secret
 * `secret`, relaying from 100 ports of its own. Resolves, once it answers a
 * STUN Binding request, to `{ address, port, url, output, stop }` (`address`
 * is `ip:port`, `url` the `turn:` URL for the server's `--broker`).
 */
export async function startCoturn({ ip, secret, deadlineMs = 10_000 }) {
  const port = await freeUdpPort(ip);
  const minPort = 40_000 + ((process.pid * 101) % 20_000);
  const dir = await mkdtemp(path.join(tmpdir(), 'tether-e2e-coturn-'));
  const config = [
    `listening-ip=${ip}`,
    `relay-ip=${ip}`,
    `listening-port=${port}`,
    `min-port=${minPort}`,
    `max-port=${minPort + 99}`,
    'use-auth-secret',
    `static-auth-secret=${secret}`,
    'realm=tether.test',
    'fingerprint',
    'no-cli',
    'no-tls',
    'no-dtls',
    'no-tcp-relay',
    'no-multicast-peers',
    'simple-log',
    'log-file=stdout',
    `userdb=${path.join(dir, 'turndb')}`,
    `pidfile=${path.join(dir, 'turnserver.pid')}`,
  ];
  const file = path.join(dir, 'turnserver.conf');
  await writeFile(file, `${config.join('\n')}\n`);
  const coturn = startProcess('turnserver', ['-c', file], { label: 'coturn' });
  const { output, running } = coturn;
  const stop = async () => {
    await coturn.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await until(async () => {
      const startError = coturn.startError();
      if (startError) throw new Error(`cannot start coturn (Debian package coturn): ${startError.message}`);
      if (!running()) throw new Error(`coturn exited early:\n${output.join('\n')}`);
      return answersBinding(ip, port);
    }, `coturn to answer on ${ip}:${port}`, { deadlineMs, describe: () => output.slice(-10) });
  } catch (error) {
    await stop();
    throw error;
  }
  return { address: `${ip}:${port}`, port, url: `turn:${ip}:${port}`, output, stop };
}
