// Runs the real tether-agent binary: one-shot commands (enroll) and the
// long-running `run` or `connect`, stopped by its PID; optionally behind a
// command prefix such as `ip netns exec <name>` (which execs the agent, so
// the PID stays the agent's).

import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { cargoTargetDir } from './server.mjs';

/** The agent binary: `TETHER_AGENT_BIN`, else the debug build in Cargo's target dir. */
export function agentBinary() {
  return process.env.TETHER_AGENT_BIN ?? path.join(cargoTargetDir(), 'debug', 'tether-agent');
}

/** Rejects with a hint when the agent binary is missing. */
export async function requireAgentBinary() {
  const binary = agentBinary();
  await access(binary).catch(() => {
    throw new Error(`agent binary not found at ${binary}: build it with \`cargo build -p tether-agent\` or set TETHER_AGENT_BIN`);
  });
  return binary;
}

/**
 * The environment for an agent: the test's own, without `DISPLAY` (and
 * `WAYLAND_DISPLAY`), so the agent never touches the desktop of whoever
 * runs the tests. `display` (a test's own Xvfb, like `:7`) becomes its
 * `DISPLAY`; without one it reports no displays. `extra` is added (e.g.
 * `TETHER_FILES_DIR`).
 */
function agentEnv({ display, extra = {} } = {}) {
  const { DISPLAY, WAYLAND_DISPLAY, ...env } = process.env;
  return { ...env, TETHER_LOG: process.env.TETHER_LOG ?? 'info', ...(display ? { DISPLAY: display } : {}), ...extra };
}

/** Spawns the agent with `args`, behind `prefix` (a command and its arguments) if given. */
function spawnWith(prefix, args, env) {
  const [command, ...rest] = [...prefix, agentBinary(), ...args];
  return spawn(command, rest, { stdio: ['ignore', 'pipe', 'pipe'], env });
}

/**
 * Runs `tether-agent ...args` (behind `prefix`, if given) to completion.
 * Resolves to `{ code, signal, stdout, stderr }`; kills it (by PID) after
 * `deadlineMs`.
 */
export async function runAgentCommand(args, { deadlineMs = 30_000, prefix = [] } = {}) {
  const child = spawnWith(prefix, args, agentEnv());
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => { stdout += chunk; });
  child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    process.kill(child.pid, 'SIGKILL');
  }, deadlineMs);
  const { code, signal } = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  clearTimeout(timer);
  if (timedOut) throw new Error(`tether-agent ${args[0]} did not finish within ${deadlineMs} ms\n${stdout}${stderr}`);
  return { code, signal, stdout, stderr };
}

/**
 * Starts `tether-agent run --config <configPath> ...args` in the background,
 * on X display `display` if given (e.g. `args: ['--unattended',
 * '--webrtc-bind', '127.0.0.1:0']` to stream it). Returns `{ pid, output,
 * exited, kill }`: `exited` resolves with `{ code, signal }`; `kill(signal)`
 * signals the process by its PID (if still running) and waits for it to exit.
 * `env` adds variables to its environment.
 */
export function startAgent(configPath, { args = [], display, prefix = [], env = {} } = {}) {
  return startAgentCommand(['run', '--config', configPath, ...args], { display, prefix, env });
}

/**
 * Starts `tether-agent ...args` in the background (behind `prefix`, if
 * given), on X display `display` if given; returns what `startAgent` does.
 */
export function startAgentCommand(args, { display, prefix = [], env = {} } = {}) {
  const child = spawnWith(prefix, args, agentEnv({ display, extra: env }));
  const output = [];
  for (const [name, stream] of [['stdout', child.stdout], ['stderr', child.stderr]]) {
    createInterface({ input: stream }).on('line', (line) => {
      output.push(`[${name}] ${line}`);
      if (process.env.TETHER_E2E_VERBOSE) console.error(`agent ${name}: ${line}`);
    });
  }
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const running = () => child.exitCode === null && child.signalCode === null;
  const kill = async (signal = 'SIGTERM') => {
    if (running()) process.kill(child.pid, signal);
    return exited;
  };
  return { pid: child.pid, output, exited, running, kill };
}
