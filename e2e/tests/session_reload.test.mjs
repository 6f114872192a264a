// A live session survives the technician reloading the controller page:
// the reloaded page signs in again (refresh cookie), re-attaches to the same
// session within the server's grace period and offers from a new
// RTCPeerConnection; the agent (run with --unattended on Xvfb) sees a new
// DTLS fingerprint, replaces its peer and streams again. The re-attach is
// audited and the session does not end. A page that goes away for good
// (closed without "End session") ends the session once the grace period
// is over, with the reason recorded. A server frozen with SIGSTOP leaves no
// session running: the agent ends it itself after the policy's server-loss
// limit, the picture stops, and once the server resumes the end is audited
// with the time the agent ended it.

import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { watchPageErrors } from '../lib/browser.mjs';
import { stepRunner } from '../lib/steps.mjs';
import { showsText } from '../lib/ui.mjs';
import { call } from '../lib/api.mjs';
import { LIVE_DEADLINE_MS, SESSION_PATH, startLiveSession } from '../lib/live.mjs';
import { videoStats } from '../lib/rtc.mjs';
import { until } from '../lib/wait.mjs';

const TECH = {
  username: 'rhea',
  displayName: 'Rhea Reloader',
  role: 'technician',
  password: 'rhea-one-time-pass-1',
  newPassword: 'rhea-battery-staple-7',
};
const AUDITOR = {
  username: 'ada',
  displayName: 'Ada Auditor',
  role: 'auditor',
  password: 'ada-one-time-pass-1',
  newPassword: 'ada-ledger-lantern-5',
};
/** The server's reload grace for this suite, seconds: long enough for a reload, short enough to wait out. */
const GRACE_SECONDS = 6;
const DEADLINE_MS = LIVE_DEADLINE_MS;

describe('session reload', () => {
  let live;
  let server;
  let page;
  let agent = null;
  let sessionId = null;

  /** Audit entries of `action` about this session. */
  async function auditOf(action) {
    const { body } = await call(server.url, 'GET', `/api/audit?action=${action}`, { token: live.auditorToken });
    return body.entries.filter((entry) => entry.target === sessionId);
  }

  /** Waits for the page's current peer connection to be connected and to decode frames. */
  async function decodesFrames(what) {
    await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor({ timeout: DEADLINE_MS });
    await until(
      async () => {
        const stats = await videoStats(page);
        return stats && stats.connectionState === 'connected' && stats.framesDecoded > 2 && stats;
      },
      what,
      { deadlineMs: DEADLINE_MS, everyMs: 200, describe: () => videoStats(page) },
    );
  }

  before(async () => {
    live = await startLiveSession({
      name: 'reload',
      tech: TECH,
      auditor: AUDITOR,
      serverEnv: { TETHER_SESSION_RELOAD_GRACE_SECS: String(GRACE_SECONDS) },
    });
    ({ server, page, agent } = live);
  });

  after(async () => {
    await live?.stop();
  });

  const step = stepRunner('session-reload', () => live?.diagnostics() ?? {});

  step('a technician opens a session and frames decode', async () => {
    sessionId = await live.openSession();
    await decodesFrames('frames on the first page');
  });

  step('reloading the page re-attaches to the same session and streams again', async () => {
    await page.reload();
    await showsText(page, 'page-title', 'Live session');
    assert.equal(page.url().match(SESSION_PATH)?.[1], sessionId, 'the reload left the session page');
    await decodesFrames('frames on the reloaded page (a new RTCPeerConnection)');
    // The agent saw a new DTLS fingerprint and answered from a fresh peer (its log says so).
    assert.ok(
      agent.output.some((line) => line.includes('replacing the peer')),
      'the agent did not replace its peer for the new connection',
    );
    const reattached = await until(async () => (await auditOf('session.reattach')).at(0), 'the session.reattach audit entry');
    assert.equal(reattached.actor, TECH.username);
    assert.deepEqual(await auditOf('session.end'), [], 'the reload ended the session');
  });

  step('a page that goes away for good ends the session after the grace period', async () => {
    const leftAt = Date.now();
    await page.close();
    const ended = await until(async () => (await auditOf('session.end')).at(0), 'the session.end audit entry', {
      deadlineMs: GRACE_SECONDS * 1_000 + DEADLINE_MS,
      everyMs: 200,
    });
    assert.ok(Date.now() - leftAt >= GRACE_SECONDS * 1_000 - 500, 'the session ended before the grace period was over');
    assert.equal(
      ended.details.reason,
      `the technician's controller disconnected and did not return within ${GRACE_SECONDS} s`,
    );
    page = await live.browser.context.newPage();
    live.page = page;
    live.pageErrors = watchPageErrors(page);
  });

  step('a frozen server: the agent ends the session itself and the end is audited with its time', async () => {
    // The default limit (15 s) comes with the agent's welcome.
    const LOSS_LIMIT_MS = 15_000;
    // Still signed in (the refresh cookie): straight to Targets.
    await page.goto(`${server.url}/targets`);
    await live.targetRow().getByTestId('target-connect').click({ timeout: DEADLINE_MS });
    await page.waitForURL(SESSION_PATH);
    sessionId = page.url().match(SESSION_PATH)[1];
    await decodesFrames('frames in the session before the server freezes');
    const frozenAt = Date.now();
    server.signal('SIGSTOP');
    let resumed = false;
    try {
      await until(
        async () => agent.output.some((line) => line.includes('the server is unreachable')),
        'the agent ending the session on its own',
        { deadlineMs: LOSS_LIMIT_MS + DEADLINE_MS, everyMs: 200 },
      );
      const endedAfter = Date.now() - frozenAt;
      // Silence counts from the last heartbeat the agent heard, up to one
      // interval (5 s) before the freeze.
      const HEARTBEAT_MS = 5_000;
      assert.ok(
        endedAfter >= LOSS_LIMIT_MS - HEARTBEAT_MS - 500,
        `the agent gave up after ${endedAfter} ms, before its limit`,
      );
      // Nothing streams any more: the decoded frame count stops growing.
      let [lastCount, lastChangeAt] = [-1, Date.now()];
      await until(
        async () => {
          const count = (await videoStats(page))?.framesDecoded ?? 0;
          if (count !== lastCount) [lastCount, lastChangeAt] = [count, Date.now()];
          return Date.now() - lastChangeAt >= 1_000;
        },
        'no new frame for a second once the agent ended the session',
        { deadlineMs: DEADLINE_MS, everyMs: 100 },
      );
      const resumedAt = Date.now();
      server.signal('SIGCONT');
      resumed = true;
      const ended = await until(async () => (await auditOf('session.end')).at(0), 'the session.end audit entry', {
        deadlineMs: DEADLINE_MS,
        everyMs: 200,
      });
      assert.match(ended.details.reason, /heard nothing from the server/);
      const endedAtTarget = ended.details.ended_at_target;
      assert.ok(
        endedAtTarget >= frozenAt + LOSS_LIMIT_MS - HEARTBEAT_MS - 500 && endedAtTarget < resumedAt,
        `the end is audited with the agent's time (${endedAtTarget}), between the freeze (${frozenAt}) and the resumption (${resumedAt})`,
      );
      await showsText(page, 'ended-reason', /heard nothing from the server/i);
    } finally {
      if (!resumed) server.signal('SIGCONT');
    }
  });
});
