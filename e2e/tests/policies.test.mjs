// Session policy end to end: the admin opens Policies and sees the defaults
// (900 s, 5 tries, acceptance asked, 120 s); sets a 10-minute code lifetime
// without acceptance, saves, and still sees it after a reload; an
// out-of-range lifetime is refused on the page and nothing changes; a
// technician has no Policies link, cannot open the page, reads the policy
// through the API but gets 403 changing it.

import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openServerAndPage, closeServerAndPage, signInFirstAdmin } from '../lib/suite.mjs';
import { stepRunner } from '../lib/steps.mjs';
import { visible, showsText, signIn, changeOneTimePassword, shellOf, logOut } from '../lib/ui.mjs';
import { call, createUser, getSessionPolicy, login, setSessionPolicy } from '../lib/api.mjs';

const ADMIN_PASSWORD = 'admin-correct-horse-42';
const TECH = { username: 'tina', displayName: 'Tina Technician', role: 'technician', password: 'tina-one-time-pass-1' };
const TECH_PASSWORD = 'tina-battery-staple-7';
const DEFAULTS = { code_lifetime_secs: 900, max_wrong_guesses: 5, user_acceptance: true, acceptance_timeout_secs: 120, server_loss_timeout_secs: 15 };
const SAVED = { ...DEFAULTS, code_lifetime_secs: 600, user_acceptance: false, server_loss_timeout_secs: 20 };

describe('policies', () => {
  let server;
  let browser;
  let page;
  let pageErrors = [];

  const lifetime = () => page.getByLabel('Connection code lifetime');
  const wrongTries = () => page.getByLabel('Wrong tries before a code is void');
  const acceptance = () => page.getByLabel('Ask the user to accept incoming sessions');
  const timeToAccept = () => page.getByLabel('Time to accept (seconds)');
  const serverLoss = () => page.getByLabel('End sessions when the server is lost for (seconds)');

  /** What the form shows, in the API's terms. */
  const shown = async () => {
    await visible(page, 'policy-form');
    return {
      code_lifetime_secs: Number(await lifetime().inputValue()),
      max_wrong_guesses: Number(await wrongTries().inputValue()),
      user_acceptance: await acceptance().isChecked(),
      acceptance_timeout_secs: Number(await timeToAccept().inputValue()),
      server_loss_timeout_secs: Number(await serverLoss().inputValue()),
    };
  };

  before(async () => {
    ({ server, browser, page, pageErrors } = await openServerAndPage());
  });

  after(() => closeServerAndPage({ server, browser }));

  const step = stepRunner('policies', () => ({ page, server, pageErrors }));

  step('the admin opens Policies and sees the defaults', async () => {
    await signInFirstAdmin(page, server, ADMIN_PASSWORD);
    await page.getByTestId('nav-policies').click();
    await showsText(page, 'page-title', 'Policies');
    assert.deepEqual(await shown(), DEFAULTS);
    await showsText(page, 'policy-code-lifetime-clock', '15:00');
  });

  step('the admin sets a 10-minute lifetime without acceptance, and it is kept', async () => {
    await lifetime().fill('600');
    await showsText(page, 'policy-code-lifetime-clock', '10:00');
    await acceptance().uncheck();
    await serverLoss().fill('20');
    await page.getByTestId('policy-save').click();
    await showsText(page, 'policy-saved', /saved/i);
    assert.deepEqual(await shown(), SAVED);

    await page.reload();
    await showsText(page, 'page-title', 'Policies');
    assert.deepEqual(await shown(), SAVED);
    const token = await login(server.url, 'admin', ADMIN_PASSWORD);
    assert.deepEqual(await getSessionPolicy(server.url, token), SAVED);
  });

  step('an out-of-range lifetime is refused and nothing changes', async () => {
    await lifetime().fill('5');
    await page.getByTestId('policy-save').click();
    await showsText(page, 'policy-code-lifetime-error', /between 10 and 86400 seconds/);
    assert.equal(await page.getByTestId('policy-saved').count(), 0);

    await page.reload();
    await showsText(page, 'page-title', 'Policies');
    assert.deepEqual(await shown(), SAVED);
    await logOut(page);
  });

  step('a technician has no Policies link and may read but not change the policy', async () => {
    const adminToken = await login(server.url, 'admin', ADMIN_PASSWORD);
    await createUser(server.url, adminToken, TECH);
    await signIn(page, TECH.username, TECH.password);
    await changeOneTimePassword(page, TECH.password, TECH_PASSWORD);
    await shellOf(page, 'technician');
    assert.equal(await page.getByTestId('nav-policies').count(), 0);
    await page.goto(`${server.url}/policies`);
    await visible(page, 'forbidden');
    assert.equal(await page.getByTestId('policy-form').count(), 0);

    const techToken = await login(server.url, TECH.username, TECH_PASSWORD);
    assert.deepEqual(await getSessionPolicy(server.url, techToken), SAVED);
    const refused = await call(server.url, 'PUT', '/api/policies/session', { token: techToken, body: DEFAULTS });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error, 'forbidden');
    assert.deepEqual(await getSessionPolicy(server.url, techToken), SAVED);

    // The helper other suites use: an admin's change, answered with what was saved.
    assert.deepEqual(await setSessionPolicy(server.url, adminToken, { code_lifetime_secs: 60 }), {
      ...DEFAULTS,
      code_lifetime_secs: 60,
    });
  });
});
