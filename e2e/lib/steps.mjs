// Sequential test steps for a suite that walks one story: a step is skipped
// once an earlier one failed, and a failing step leaves a screenshot and the
// last lines of the server's (and agent's) output in its error.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { screenshot } from './browser.mjs';

/**
 * Returns `step(name, body)` for one suite. `current()` gives the suite's
 * live `{ page?, server?, agent?, others?, pageErrors? }` (they are set up
 * in `before`); `others` names more processes' outputs, `{ name: lines }`.
 */
export function stepRunner(prefix, current) {
  let failed = false;
  return (name, body) =>
    it(name, async (t) => {
      if (failed) {
        t.skip('an earlier step failed');
        return;
      }
      try {
        await body();
        assert.deepEqual(current().pageErrors ?? [], [], 'the page reported errors');
      } catch (error) {
        failed = true;
        const { page, server, agent, others = {} } = current();
        const file = page ? await screenshot(page, prefix ? `${prefix}-${name}` : name).catch(() => null) : null;
        if (file) error.message += `\nscreenshot: ${file}`;
        if (server) error.message += `\nserver output (last lines):\n${server.output.slice(-15).join('\n')}`;
        if (agent) error.message += `\nagent output (last lines):\n${agent.output.slice(-15).join('\n')}`;
        for (const [other, value] of Object.entries(others)) {
          // A process handle (`{ output }`) or its lines.
          const output = Array.isArray(value) ? value : value?.output;
          if (Array.isArray(output)) error.message += `\n${other} output (last lines):\n${output.slice(-15).join('\n')}`;
        }
        throw error;
      }
    });
}
