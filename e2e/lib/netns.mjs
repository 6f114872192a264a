// A separate test "host" on this machine: a network namespace joined to this
// one by a veth pair with private addresses, and a firewall inside it that
// lets out only the connections a test names. Needs root (CI runs as root),
// `ip` (iproute2) and `nft` (Debian package nftables). Everything it creates
// is named after this process and removed by name in `remove()`.

import { spawn } from 'node:child_process';

/**
 * Runs `command ...args` (with `input` on its stdin) to completion; resolves
 * to its stdout, rejects with its stderr when it fails.
 */
export function run(command, args, { input } = {}) {
  return new Promise((resolve, reject) => {
    // A command that reads no input may exit before it could be written.
    const child = spawn(command, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
    child.once('error', (error) => reject(new Error(`cannot run ${command}: ${error.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`${command} ${args.join(' ')} failed (code ${code}, signal ${signal}): ${stderr.trim()}`));
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

/** Runs `command ...args`, ignoring failure (for removing what may not exist). */
async function attempt(command, args) {
  await run(command, args).catch(() => {});
}

/** Deletes the veth pair and the namespace made for `tag`, if they exist. */
async function removeNamed(tag) {
  // Deleting one end of a veth pair deletes both.
  await attempt('ip', ['link', 'del', `tvh${tag}`.slice(0, 15)]);
  await attempt('ip', ['netns', 'del', `tether-e2e-${tag}`]);
}

/** Removes what test processes that no longer run (killed before `after`) left behind. */
async function removeOrphans() {
  const listed = await run('ip', ['netns', 'list']).catch(() => '');
  for (const match of listed.matchAll(/^tether-e2e-(\d+)\b/gm)) {
    const pid = Number(match[1]);
    if (pid === process.pid || isRunning(pid)) continue;
    await removeNamed(pid);
  }
}

/** Whether process `pid` exists. */
function isRunning(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/**
 * Creates namespace `tether-e2e-<tag>` with a veth pair on 10.231.N.0/30:
 * `hostIp` (…1) on this side, `nsIp` (…2) inside, loopback up and no
 * default route. Resolves to
 * `{ name, hostIp, nsIp, prefix, allowOnly, cut, remove }`: `prefix` is the
 * argument list that runs a command inside (`ip netns exec <name>`);
 * `allowOnly(ports)` installs the firewall; `cut(protocol)` drops a
 * protocol's packets until restored; `remove()` deletes the pair and
 * the namespace (safe to call twice, or after a failed start).
 */
export async function createNetns({ tag = process.pid } = {}) {
  const name = `tether-e2e-${tag}`;
  // Interface names have at most 15 characters.
  const hostIf = `tvh${tag}`.slice(0, 15);
  const nsIf = `tvn${tag}`.slice(0, 15);
  const subnet = Number(tag) % 254;
  const hostIp = `10.231.${subnet}.1`;
  const nsIp = `10.231.${subnet}.2`;
  const remove = () => removeNamed(tag);
  await removeOrphans();
  // Left over from an earlier run that had this PID and was killed.
  await remove();
  try {
    await run('ip', ['netns', 'add', name]).catch((error) => {
      throw new Error(`cannot create a network namespace (run as root, with iproute2): ${error.message}`);
    });
    await run('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf, 'netns', name]);
    await run('ip', ['addr', 'add', `${hostIp}/30`, 'dev', hostIf]);
    await run('ip', ['link', 'set', hostIf, 'up']);
    const inside = ['netns', 'exec', name];
    await run('ip', [...inside, 'ip', 'addr', 'add', `${nsIp}/30`, 'dev', nsIf]);
    await run('ip', [...inside, 'ip', 'link', 'set', nsIf, 'up']);
    await run('ip', [...inside, 'ip', 'link', 'set', 'lo', 'up']);
    // No default route, on purpose: the agent must cope with a network it
    // shares only with the server and the broker (there, joining the mDNS
    // multicast group fails with ENODEV and the agent builds its peer
    // without mDNS).
  } catch (error) {
    await remove();
    throw error;
  }

  /**
   * Inside the namespace, drops every packet except loopback, new
   * connections to `hostIp` on the given `{ protocol: 'tcp' | 'udp', port }`
   * and the replies to those (replacing any firewall installed before).
   */
  const allowOnly = async (ports) => {
    const rules = ports.map(({ protocol, port }) => `ip daddr ${hostIp} ${protocol} dport ${Number(port)} accept`);
    const ruleset = [
      'table inet tether_e2e {',
      '  chain output {',
      '    type filter hook output priority 0; policy drop;',
      '    oif "lo" accept',
      ...rules.map((rule) => `    ${rule}`),
      '  }',
      '  chain input {',
      '    type filter hook input priority 0; policy drop;',
      '    iif "lo" accept',
      '    ct state established,related accept',
      '  }',
      '}',
    ].join('\n');
    // A firewall installed before is replaced, not added to.
    await run('ip', ['netns', 'exec', name, 'nft', 'delete', 'table', 'inet', 'tether_e2e']).catch(() => {});
    await run('ip', ['netns', 'exec', name, 'nft', '-f', '-'], { input: `${ruleset}\n` }).catch((error) => {
      throw new Error(`cannot install the namespace's firewall (Debian package nftables): ${error.message}`);
    });
  };

  /**
   * Cuts the link for `protocol` ('udp' or 'tcp'): inside the namespace,
   * every packet of it to `hostIp` is dropped, as when a network goes away,
   * until the returned `restore()` is called.
   */
  const cut = async (protocol) => {
    const table = `tether_e2e_cut_${protocol}`;
    const ruleset = [
      `table inet ${table} {`,
      '  chain output {',
      '    type filter hook output priority -1; policy accept;',
      `    ip daddr ${hostIp} meta l4proto ${protocol} drop`,
      '  }',
      '}',
    ].join('\n');
    await run('ip', ['netns', 'exec', name, 'nft', '-f', '-'], { input: `${ruleset}\n` });
    return () => run('ip', ['netns', 'exec', name, 'nft', 'delete', 'table', 'inet', table]);
  };

  return { name, hostIp, nsIp, prefix: ['ip', 'netns', 'exec', name], allowOnly, cut, remove };
}
