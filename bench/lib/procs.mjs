// Child processes for the benchmark: started with their output kept, waited
// for by condition, stopped by PID; and what /proc says about their CPU time
// and peak memory.

import { spawn, execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/**
 * Starts `command args`; returns `{ pid, output, lines, exited, running,
 * stop, write, waitForLine }`. `waitForLine(pattern, ms)` resolves with the
 * first output line (from now on or already seen after `from`) matching.
 */
export function start(name, command, args, { env = process.env, stdin = false } = {}) {
  const child = spawn(command, args, { stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], env });
  const output = [];
  const watchers = new Set();
  for (const [stream, readable] of [['stdout', child.stdout], ['stderr', child.stderr]]) {
    createInterface({ input: readable }).on('line', (line) => {
      output.push(`[${stream}] ${line}`);
      if (process.env.BENCH_VERBOSE) console.error(`${name} ${stream}: ${line}`);
      for (const watcher of watchers) watcher(line);
    });
  }
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    // A binary that cannot start never exits; report it as exited.
    child.once('error', (error) => {
      output.push(`[spawn] ${error.message}`);
      resolve({ code: null, signal: null });
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async (graceMs = 5_000) => {
    if (!running()) return exited;
    process.kill(child.pid, 'SIGTERM');
    const timer = setTimeout(() => running() && process.kill(child.pid, 'SIGKILL'), graceMs);
    const result = await exited;
    clearTimeout(timer);
    return result;
  };
  const waitForLine = (pattern, deadlineMs) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        watchers.delete(watch);
        reject(new Error(`${name}: no output matching ${pattern} within ${deadlineMs} ms\n${output.slice(-20).join('\n')}`));
      }, deadlineMs);
      const watch = (line) => {
        const match = line.match(pattern);
        if (!match) return;
        clearTimeout(timer);
        watchers.delete(watch);
        resolve(match);
      };
      watchers.add(watch);
      exited.then(({ code, signal }) => {
        if (!watchers.has(watch)) return;
        clearTimeout(timer);
        watchers.delete(watch);
        reject(new Error(`${name} exited (code ${code}, signal ${signal})\n${output.slice(-20).join('\n')}`));
      });
    });
  const write = (text) => child.stdin.write(text);
  return { name, pid: child.pid, output, exited, running, stop, write, waitForLine };
}

/** Polls `check` every 50 ms until it returns a truthy value; rejects after `deadlineMs`. */
export async function until(check, what, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The process's user + system CPU time so far, in seconds. */
export async function cpuSeconds(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) in parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Peak resident memory (VmHWM) in KiB. */
export async function peakRssKiB(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = status.match(/^VmHWM:\s+(\d+) kB/m);
  return match ? Number(match[1]) : null;
}
