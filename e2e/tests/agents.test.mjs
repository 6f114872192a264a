// Agents end to end: the admin issues an enrollment token in the UI and reads
// it (once) from the page; the real tether-agent enrolls with it and runs; a
// technician sees the computer Online, then Offline once the agent is killed;
// after the admin revokes the token, enrolling with it again fails. Then
// groups and policies: the admin puts the technician and the computer in
// groups, lets only that pair in (a default allowing no mode, the pair's
// policy without Active) and previews it; a second technician outside the
// pair sees no computer and the API answers 403; the admin renames the
// computer and revokes it.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, access } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { openServerAndPage, closeServerAndPage, signInFirstAdmin } from '../lib/suite.mjs';
import { requireAgentBinary, runAgentCommand, startAgent } from '../lib/agent.mjs';
import { stepRunner } from '../lib/steps.mjs';
import { visible, showsText, signIn, changeOneTimePassword, shellOf, logOut, createUser } from '../lib/ui.mjs';
import { call, createUser as createUserByApi, login } from '../lib/api.mjs';

const ADMIN_PASSWORD = 'admin-correct-horse-42';
const TECH = { username: 'terry', displayName: 'Terry Technician', role: 'technician', password: 'terry-one-time-pass-1' };
const TECH_PASSWORD = 'terry-battery-staple-7';
const OUTSIDER = { username: 'olga', displayName: 'Olga Outsider', role: 'technician', password: 'olga-one-time-pass-1' };
const OUTSIDER_PASSWORD = 'olga-battery-staple-7';
const LABEL = 'E2E lab PCs';
/** How long the server and the page's 3 s refresh may take to show a change. */
const STATUS_DEADLINE_MS = 20_000;

describe('agents', () => {
  let server;
  let browser;
  let page;
  let workDir;
  let agent = null;
  let token = null;
  let pageErrors = [];
  const host = hostname();
  const configPath = () => path.join(workDir, 'agent.json');
  const tokenRow = () => page.locator(`[data-testid="token-row"][data-label="${LABEL}"]`);
  const targetRow = () => page.locator(`[data-testid="target-row"][data-hostname=${JSON.stringify(host)}]`);

  before(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'tether-e2e-agent-'));
    ({ server, browser, page, pageErrors } = await openServerAndPage());
  });

  after(async () => {
    await agent?.kill('SIGKILL');
    await closeServerAndPage({ server, browser });
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  const step = stepRunner('agents', () => ({ page, server, agent, pageErrors }));

  step('the admin opens Agents and sees how enrollment works', async () => {
    await signInFirstAdmin(page, server, ADMIN_PASSWORD);
    await page.getByTestId('nav-agents').click();
    await showsText(page, 'page-title', 'Agents');
    await showsText(page, 'enrollment-explainer', /enrollment token/);
    await visible(page, 'tokens-empty');
  });

  step('the admin creates a token and reads it, once, with the commands to run', async () => {
    // The form applies the server's limits before sending.
    await page.getByTestId('token-label').fill(LABEL);
    await page.getByTestId('token-ttl-amount').fill('31');
    await page.getByTestId('token-ttl-unit').selectOption('days');
    await page.getByTestId('token-max-uses').fill('0');
    await page.getByTestId('token-create-submit').click();
    await showsText(page, 'token-ttl-amount-error', 'At most 30 days');
    await showsText(page, 'token-max-uses-error', /1 to 10000/);
    assert.equal(await page.getByTestId('token-created').count(), 0);

    await page.getByTestId('token-ttl-amount').fill('2');
    await page.getByTestId('token-ttl-unit').selectOption('hours');
    await page.getByTestId('token-max-uses').fill('3');
    await page.getByTestId('token-create-submit').click();
    await visible(page, 'token-created');
    await showsText(page, 'token-created-warning', /will not be shown again/);

    token = await page.getByTestId('token-secret').inputValue();
    assert.match(token, /^\S{20,}$/);
    const enrollCommand = `tether-agent enroll --server ${server.url} --token ${token}`;
    assert.equal(await page.getByTestId('token-enroll-command').inputValue(), enrollCommand);
    assert.equal(await page.getByTestId('token-run-command').inputValue(), 'tether-agent run');

    // "Copy" puts the command on the clipboard.
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await page.getByTestId('token-enroll-command-copy').click();
    await showsText(page, 'token-enroll-command-copy', 'Copied');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), enrollCommand);

    await tokenRow().waitFor();
    assert.equal(await tokenRow().getAttribute('data-status'), 'active');
    assert.equal((await tokenRow().getByTestId('token-cell-uses').textContent()).trim(), '0 / 3');
    assert.equal((await tokenRow().getByTestId('token-cell-created-by').textContent()).trim(), 'admin');
    assert.match(await tokenRow().getByTestId('token-cell-expires').textContent(), /^in (1|2) h$/);

    // Shown once: after a reload the secret is nowhere on the page.
    await page.reload();
    await shellOf(page, 'admin');
    await tokenRow().waitFor();
    assert.equal(await page.getByTestId('token-created').count(), 0);
    assert.ok(!(await page.content()).includes(token), 'the token is still on the page after a reload');
  });

  step('the agent enrolls with the token and keeps its credential private', async () => {
    await requireAgentBinary();
    const result = await runAgentCommand(['enroll', '--server', server.url, '--token', token, '--config', configPath()]);
    assert.equal(result.code, 0, `enroll failed:\n${result.stdout}${result.stderr}`);
    const { mode } = await stat(configPath());
    assert.equal(mode & 0o777, 0o600, `agent.json has mode ${(mode & 0o777).toString(8)}`);

    await page.getByTestId('tokens-refresh').click();
    await page.locator(`[data-testid="token-row"][data-label="${LABEL}"] [data-testid="token-cell-uses"]`)
      .filter({ hasText: '1 / 3' })
      .waitFor();
    assert.equal(await tokenRow().getAttribute('data-status'), 'active');
  });

  step('a technician sees the running agent online', async () => {
    agent = startAgent(configPath());

    await page.getByTestId('nav-users').click();
    await createUser(page, TECH);
    await logOut(page);
    await signIn(page, TECH.username, TECH.password);
    await changeOneTimePassword(page, TECH.password, TECH_PASSWORD);
    await shellOf(page, 'technician');
    await showsText(page, 'page-title', 'Targets');

    // The page refreshes itself: no reload while the agent connects.
    await targetRow().locator('[data-testid="target-status"][data-status="online"]')
      .waitFor({ timeout: STATUS_DEADLINE_MS });
    assert.ok(agent.running(), 'the agent exited');
    assert.equal((await targetRow().getByTestId('target-cell-hostname').textContent()).trim(), host);
    assert.equal(await targetRow().getByTestId('target-displays').getAttribute('data-count'), '0');
    await showsText(page, 'target-displays', 'No display');
    assert.notEqual((await targetRow().getByTestId('target-cell-version').textContent()).trim(), '—');
    assert.equal((await targetRow().getByTestId('target-last-seen').textContent()).trim(), 'now');
    await showsText(page, 'targets-summary', '1 target · 1 online');
    // Connect opens a live session (controller.test.mjs follows it).
    assert.ok(await targetRow().getByTestId('target-connect').isEnabled());
    assert.equal(await page.getByTestId('targets-empty').count(), 0);
  });

  step('the row turns offline when the agent is killed', async () => {
    await agent.kill('SIGKILL');
    await targetRow().locator('[data-testid="target-status"][data-status="offline"]')
      .waitFor({ timeout: STATUS_DEADLINE_MS });
    assert.equal(await targetRow().getByTestId('target-connect').count(), 0);
    assert.match(await targetRow().getByTestId('target-last-seen').textContent(), /just now|\d+ s ago/);
    await showsText(page, 'targets-summary', '1 target · 0 online');

    // The manual refresh agrees.
    await page.getByTestId('targets-refresh').click();
    await targetRow().locator('[data-testid="target-status"][data-status="offline"]').waitFor();
    await logOut(page);
  });

  step('a revoked token enrolls no more', async () => {
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await shellOf(page, 'admin');
    await page.getByTestId('nav-agents').click();
    await tokenRow().getByTestId('token-revoke').click();
    await visible(page, 'confirm-dialog');
    await showsText(page, 'confirm-dialog', /Computers already enrolled with it stay enrolled/);
    await page.getByTestId('confirm-submit').click();
    await page.getByTestId('confirm-dialog').waitFor({ state: 'detached' });
    await showsText(page, 'tokens-notice', `Revoked “${LABEL}”`);
    await page.locator(`[data-testid="token-row"][data-label="${LABEL}"][data-status="revoked"]`).waitFor();
    assert.equal(await tokenRow().getByTestId('token-revoke').count(), 0);

    const secondConfig = path.join(workDir, 'second.json');
    const result = await runAgentCommand(['enroll', '--server', server.url, '--token', token, '--config', secondConfig]);
    assert.notEqual(result.code, 0, `enroll with a revoked token succeeded:\n${result.stdout}${result.stderr}`);
    assert.match(`${result.stdout}${result.stderr}`, /enrollment token/);
    await assert.rejects(access(secondConfig), 'a failed enrollment wrote a configuration');
  });

  /** The row of group `name` in the `kind` section (`technician-groups`, `target-groups`). */
  const groupRow = (kind, name) => page.locator(`[data-testid="${kind}"] [data-testid="group-row"][data-name=${JSON.stringify(name)}]`);
  const computerRow = () => page.getByTestId('computer-row');

  /** Creates group `name` in the `kind` section and adds the member labelled `member`. */
  const groupWith = async (kind, name, member) => {
    const section = page.getByTestId(kind);
    await section.getByTestId('group-name-input').fill(name);
    await section.getByTestId('group-create').click();
    await groupRow(kind, name).waitFor();
    await groupRow(kind, name).getByTestId('group-add-member').selectOption({ label: member });
    await groupRow(kind, name).locator(`[data-testid="group-member"][data-name=${JSON.stringify(member)}]`).waitFor();
  };

  step('the admin groups a technician and the computer and gives only that pair a policy', async () => {
    const adminToken = await login(server.url, 'admin', ADMIN_PASSWORD);
    await createUserByApi(server.url, adminToken, OUTSIDER);
    await page.getByTestId('nav-groups').click();
    await showsText(page, 'page-title', 'Groups');
    await groupWith('technician-groups', 'Helpdesk', TECH.username);
    await groupWith('target-groups', 'Lab', host);

    await page.getByTestId('nav-policies').click();
    await showsText(page, 'page-title', 'Policies');
    // The default lets no one in: technicians reach only what a pair gives them.
    for (const mode of ['active', 'guidance', 'monitor', 'chat', 'file_transfer']) {
      await page.getByTestId(`policy-mode-${mode}`).uncheck();
    }
    await page.getByTestId('policy-save').click();
    await showsText(page, 'policy-saved', /saved/i);

    await page.getByTestId('assignment-technician-group').selectOption({ label: 'Helpdesk' });
    await page.getByTestId('assignment-target-group').selectOption({ label: 'Lab' });
    await page.getByTestId('assignment-create').click();
    await visible(page, 'assignment-editor');
    await page.getByTestId('assignment-mode-active').uncheck();
    await page.getByTestId('assignment-save').click();
    await showsText(page, 'assignment-saved', /saved/i);
    const pair = page.locator('[data-testid="assignment-row"][data-pair="Helpdesk × Lab"]');
    await pair.getByTestId('assignment-modes').filter({ hasText: 'Guidance, Monitor, Chat, File transfer' }).waitFor();
  });

  step('the preview says who may do what on the computer', async () => {
    await page.reload();
    await showsText(page, 'page-title', 'Policies');
    await page.getByTestId('preview-computer').selectOption({ label: host });
    await page.getByTestId('preview-technician').selectOption({ label: TECH.username });
    await page.getByTestId('preview-submit').click();
    await page.locator('[data-testid="preview-result"][data-reachable="true"]').waitFor();
    await showsText(page, 'preview-modes', 'Guidance, Monitor, Chat, File transfer');
    await showsText(page, 'preview-sources', 'Helpdesk × Lab');

    await page.getByTestId('preview-technician').selectOption({ label: OUTSIDER.username });
    await page.getByTestId('preview-submit').click();
    await page.locator('[data-testid="preview-result"][data-reachable="false"]').waitFor();
    await showsText(page, 'preview-verdict', 'Cannot see or reach this computer');
    await showsText(page, 'preview-sources', /default policy/);
    await logOut(page);
  });

  step('a technician outside the pair does not see the computer, and the API answers 403', async () => {
    await signIn(page, OUTSIDER.username, OUTSIDER.password);
    await changeOneTimePassword(page, OUTSIDER.password, OUTSIDER_PASSWORD);
    await shellOf(page, 'technician');
    await showsText(page, 'page-title', 'Targets');
    await visible(page, 'targets-empty');

    const outsider = await login(server.url, OUTSIDER.username, OUTSIDER_PASSWORD);
    const insider = await login(server.url, TECH.username, TECH_PASSWORD);
    const seen = await call(server.url, 'GET', '/api/targets', { token: insider });
    assert.deepEqual(seen.body.map((target) => target.info.hostname), [host]);
    const refused = await call(server.url, 'POST', '/api/sessions', { token: outsider, body: { target_id: seen.body[0].id } });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error, 'target_not_allowed');
    await logOut(page);
  });

  step('the admin renames the computer and revokes it', async () => {
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await shellOf(page, 'admin');
    await page.getByTestId('nav-computers').click();
    await showsText(page, 'page-title', 'Computers');
    await computerRow().getByTestId('computer-groups').filter({ hasText: 'Lab' }).waitFor();
    await computerRow().getByTestId('computer-edit').click();
    await visible(page, 'computer-dialog');
    await page.getByTestId('computer-display-name').fill('Front desk');
    await page.getByTestId('computer-save').click();
    await page.getByTestId('computer-dialog').waitFor({ state: 'detached' });
    await page.locator('[data-testid="computer-row"][data-name="Front desk"]').waitFor();

    await computerRow().getByTestId('computer-revoke').click();
    await showsText(page, 'confirm-dialog', /can no longer connect/);
    await page.getByTestId('confirm-submit').click();
    await page.getByTestId('confirm-dialog').waitFor({ state: 'detached' });
    await showsText(page, 'computers-notice', 'Revoked “Front desk”');
    await visible(page, 'computers-empty');
    const insider = await login(server.url, TECH.username, TECH_PASSWORD);
    assert.deepEqual((await call(server.url, 'GET', '/api/targets', { token: insider })).body, []);
  });
});
