// Accounts end to end: the first admin signs in with the one-time password,
// must change it, creates a technician and an auditor; each of them signs in,
// replaces their one-time password and sees their own shell; a wrong password
// shows the server's message; the auditor sees every event and an intact chain.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openServerAndPage, closeServerAndPage } from '../lib/suite.mjs';
import { stepRunner } from '../lib/steps.mjs';
import { visible, showsText, signIn, changeOneTimePassword, shellOf, logOut, createUser } from '../lib/ui.mjs';

const ADMIN_PASSWORD = 'admin-correct-horse-42';
const TECH = { username: 'tina', displayName: 'Tina Technician', role: 'technician', password: 'tina-one-time-pass-1' };
const TECH_PASSWORD = 'tina-battery-staple-7';
const TECH_RESET_PASSWORD = 'tina-reset-one-time-9';
const TECH_PASSWORD_2 = 'tina-second-choice-88';
const AUDITOR = { username: 'audrey', displayName: 'Audrey Auditor', role: 'auditor', password: 'audrey-one-time-pass-2' };
const AUDITOR_PASSWORD = 'audrey-ledger-lantern-5';

/** `YYYY-MM-DDTHH:MM` in local time, as a datetime-local input takes it. */
function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** The `data-*` attributes of every audit row on the page. */
function auditRows(page) {
  return page.$$eval('[data-testid="audit-row"]', (rows) =>
    rows.map((row) => ({
      seq: Number(row.dataset.seq),
      action: row.dataset.action,
      actor: row.querySelector('[data-testid="audit-cell-actor"]').textContent.trim(),
      target: row.querySelector('[data-testid="audit-cell-target"]').textContent.trim(),
    })),
  );
}

describe('accounts', () => {
  let server;
  let browser;
  let page;
  let pageErrors = [];

  before(async () => {
    ({ server, browser, page, pageErrors } = await openServerAndPage());
  });

  after(() => closeServerAndPage({ server, browser }));

  const step = stepRunner('', () => ({ page, server, pageErrors }));

  step('the first admin signs in with the one-time password and must change it', async () => {
    await page.goto(server.url);
    await signIn(page, 'admin', server.adminPassword);
    await visible(page, 'forced-password-user');
    // Nothing else is reachable: no navigation while the change is pending.
    assert.equal(await page.getByTestId('sidebar').count(), 0);

    // The form checks the server's password rules before sending.
    await page.getByTestId('current-password').fill(server.adminPassword);
    await page.getByTestId('new-password').fill('short');
    await page.getByTestId('confirm-password').fill('short');
    await page.getByTestId('password-submit').click();
    await showsText(page, 'new-password-error', /12 to 256 characters/);

    await changeOneTimePassword(page, server.adminPassword, ADMIN_PASSWORD);
    await shellOf(page, 'admin');
    await showsText(page, 'page-title', 'Users');
    await showsText(page, 'user-display-name', 'Administrator');
    await page.locator('[data-testid="user-row"][data-username="admin"]').waitFor();
  });

  step('the admin creates a technician and an auditor, then logs out', async () => {
    await createUser(page, TECH);
    await showsText(page, 'users-notice', /Created tina/);
    await createUser(page, AUDITOR);
    const tinaRow = page.locator('[data-testid="user-row"][data-username="tina"]');
    assert.equal(await tinaRow.getByTestId('role-badge').getAttribute('data-role'), 'technician');
    assert.equal(await tinaRow.getByTestId('status-badge').getAttribute('data-status'), 'pending');
    const audreyRow = page.locator('[data-testid="user-row"][data-username="audrey"]');
    assert.equal(await audreyRow.getByTestId('role-badge').getAttribute('data-role'), 'auditor');

    // A taken username is reported on the field.
    await page.getByTestId('new-user-button').click();
    await page.getByTestId('create-username').fill('tina');
    await page.getByTestId('create-display-name').fill('Another Tina');
    await page.getByTestId('create-user-submit').click();
    await visible(page, 'create-username-error');
    await page.getByTestId('modal-close').click();
    await page.getByTestId('create-user-dialog').waitFor({ state: 'detached' });

    await logOut(page);
  });

  step('a wrong password shows the server message', async () => {
    await signIn(page, 'tina', 'not-the-right-password');
    await showsText(page, 'login-error', /wrong username or password/i);
    assert.equal(await page.getByTestId('shell').count(), 0);
  });

  step('the technician replaces the one-time password and sees the technician shell', async () => {
    await signIn(page, TECH.username, TECH.password);
    await changeOneTimePassword(page, TECH.password, TECH_PASSWORD);
    await shellOf(page, 'technician');
    await showsText(page, 'user-display-name', TECH.displayName);
    await showsText(page, 'targets-empty', 'No computers for you yet');
    await page.getByTestId('nav-sessions').click();
    await visible(page, 'sessions-empty');
    assert.equal(await page.getByTestId('nav-users').count(), 0);
    assert.equal(await page.getByTestId('nav-audit').count(), 0);

    // A page of another role is refused, not shown.
    await page.goto(`${server.url}/users`);
    await shellOf(page, 'technician');
    await visible(page, 'forbidden');
    await logOut(page);
  });

  step('the auditor sees every event and an intact chain', async () => {
    await signIn(page, AUDITOR.username, AUDITOR.password);
    await changeOneTimePassword(page, AUDITOR.password, AUDITOR_PASSWORD);
    await shellOf(page, 'auditor');
    await showsText(page, 'page-title', 'Audit log');
    await showsText(page, 'chain-status-text', /^Chain intact — \d+ entries$/);
    await visible(page, 'audit-row');

    const rows = await auditRows(page);
    const actions = new Set(rows.map((row) => row.action));
    for (const action of [
      'system.first_admin',
      'auth.login',
      'auth.login_failed',
      'auth.password_change',
      'auth.logout',
      'user.create',
    ]) {
      assert.ok(actions.has(action), `missing ${action} in ${[...actions].join(', ')}`);
    }
    const created = rows.filter((row) => row.action === 'user.create').map((row) => row.target).sort();
    assert.deepEqual(created, ['audrey', 'tina']);
    assert.ok(rows.some((row) => row.action === 'auth.login_failed' && row.target === 'tina'));
    // Newest first, without gaps.
    const seqs = rows.map((row) => row.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => b - a));
    assert.equal(seqs[0] - seqs.at(-1) + 1, seqs.length);

    // Filter by action prefix.
    await page.getByTestId('filter-action').fill('auth.');
    await page.getByTestId('filter-apply').click();
    await page.waitForFunction(() => {
      const shown = [...document.querySelectorAll('[data-testid="audit-row"]')];
      return shown.length > 0 && shown.every((row) => row.dataset.action.startsWith('auth.'));
    });

    // Filter by actor and action.
    await page.getByTestId('filter-actor').fill('admin');
    await page.getByTestId('filter-action').fill('user.create');
    await page.getByTestId('filter-apply').click();
    await page.waitForFunction(() => {
      const shown = [...document.querySelectorAll('[data-testid="audit-row"]')];
      return shown.length === 2 && shown.every((row) => row.dataset.action === 'user.create');
    });

    // A time range in the future matches nothing.
    await page.getByTestId('filter-clear').click();
    await page.getByTestId('filter-since').fill(localInputValue(new Date(Date.now() + 3_600_000)));
    await page.getByTestId('filter-apply').click();
    await visible(page, 'audit-empty');
    await page.getByTestId('filter-clear').click();
    await visible(page, 'audit-row');

    // The session survives a reload (refresh cookie), and verification is repeatable.
    await page.reload();
    await shellOf(page, 'auditor');
    await page.getByTestId('chain-verify').click();
    await showsText(page, 'chain-status-text', /^Chain intact/);
    await logOut(page);
  });

  step('the admin disables, enables and resets a password of an account', async () => {
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await shellOf(page, 'admin');
    const tinaRow = page.locator('[data-testid="user-row"][data-username="tina"]');
    await tinaRow.getByTestId('user-toggle-disabled').click();
    await showsText(page, 'users-notice', 'Disabled tina');
    await page.locator('[data-testid="user-row"][data-username="tina"] [data-status="disabled"]').waitFor();

    await tinaRow.getByTestId('user-edit').click();
    await page.getByTestId('edit-display-name').fill('Tina T.');
    await page.getByTestId('edit-user-submit').click();
    await showsText(page, 'users-notice', 'Saved changes to tina');
    await showsText(page, 'user-cell-display-name', 'Tina T.');
    await logOut(page);

    await signIn(page, TECH.username, TECH_PASSWORD);
    await showsText(page, 'login-error', /disabled/i);

    await signIn(page, 'admin', ADMIN_PASSWORD);
    await shellOf(page, 'admin');
    await tinaRow.getByTestId('user-toggle-disabled').click();
    await showsText(page, 'users-notice', 'Enabled tina');
    await tinaRow.getByTestId('user-reset-password').click();
    await page.getByTestId('reset-password-input').fill(TECH_RESET_PASSWORD);
    await page.getByTestId('reset-password-submit').click();
    await showsText(page, 'reset-password-value', TECH_RESET_PASSWORD);
    await page.getByTestId('reset-password-close').click();
    await page.locator('[data-testid="user-row"][data-username="tina"] [data-status="pending"]').waitFor();
    await logOut(page);

    await signIn(page, TECH.username, TECH_RESET_PASSWORD);
    await changeOneTimePassword(page, TECH_RESET_PASSWORD, TECH_PASSWORD_2);
    await shellOf(page, 'technician');
    await showsText(page, 'user-display-name', 'Tina T.');
    await logOut(page);
  });

  step('the admin deletes an account after confirming, and it can no longer sign in', async () => {
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await shellOf(page, 'admin');
    const tinaRow = page.locator('[data-testid="user-row"][data-username="tina"]');
    await tinaRow.getByTestId('user-delete').click();
    await showsText(page, 'confirm-dialog', /cannot be undone/);
    await page.getByTestId('confirm-cancel').click();
    await tinaRow.waitFor();
    await tinaRow.getByTestId('user-delete').click();
    await page.getByTestId('confirm-submit').click();
    await showsText(page, 'users-notice', 'Deleted tina');
    await tinaRow.waitFor({ state: 'detached' });
    const ownRow = page.locator('[data-testid="user-row"][data-username="admin"]');
    assert.equal(await ownRow.getByTestId('user-delete').count(), 0, 'no delete on your own row');
    await logOut(page);

    await signIn(page, TECH.username, TECH_PASSWORD_2);
    await showsText(page, 'login-error', /wrong|invalid|incorrect/i);
  });
});
