// Brokers end to end: the admin opens Brokers and sees the server's embedded
// relay (built in, not removable); adds a coturn broker through the form
// (after the form refuses a bad name and a non-TURN URL), sees it listed, and
// removes it after confirming. The unauthenticated broker config an agent
// reads follows each change.

import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openServerAndPage, closeServerAndPage, signInFirstAdmin } from '../lib/suite.mjs';
import { stepRunner } from '../lib/steps.mjs';
import { until } from '../lib/wait.mjs';
import { visible, showsText } from '../lib/ui.mjs';

const ADMIN_PASSWORD = 'admin-correct-horse-42';
const BROKER = 'coturn-e2e';
const URLS = ['turn:relay.example.org:3478?transport=udp', 'turns:relay.example.org:5349'];

describe('brokers', () => {
  let server;
  let browser;
  let page;
  let pageErrors = [];
  const row = (id) => page.locator(`[data-testid="broker-row"][data-id="${id}"]`);
  const configIds = async () => {
    const response = await fetch(`${server.url}/api/broker/config`);
    assert.equal(response.status, 200);
    return (await response.json()).brokers.map((broker) => broker.id);
  };

  before(async () => {
    ({ server, browser, page, pageErrors } = await openServerAndPage());
  });

  after(() => closeServerAndPage({ server, browser }));

  const step = stepRunner('brokers', () => ({ page, server, pageErrors }));

  step('the admin opens Brokers and sees the embedded relay, built in', async () => {
    await signInFirstAdmin(page, server, ADMIN_PASSWORD);
    await page.getByTestId('nav-brokers').click();
    await showsText(page, 'page-title', 'Brokers');
    await row('embedded').waitFor();
    assert.match(await row('embedded').getByTestId('broker-cell-address').innerText(), /^127\.0\.0\.1:\d+$/);
    assert.equal(await row('embedded').getByTestId('broker-built-in').count(), 1);
    assert.equal(await row('embedded').getByTestId('broker-remove').count(), 0);
    assert.deepEqual(await configIds(), ['embedded']);
  });

  step('the form refuses a bad name and a non-TURN URL', async () => {
    await page.getByTestId('broker-id').fill('Not OK');
    await page.getByTestId('broker-urls').fill('stun:relay.example.org');
    await page.getByTestId('broker-add-submit').click();
    await visible(page, 'broker-id-error');
    await showsText(page, 'broker-urls-error', /turn: or turns:/);
    assert.equal(await row(BROKER).count(), 0);
  });

  step('the admin adds a coturn broker and sees it listed', async () => {
    await page.getByTestId('broker-id').fill(BROKER);
    await page.getByTestId('broker-urls').fill(URLS.join('\n'));
    await page.getByTestId('broker-add-submit').click();
    await showsText(page, 'brokers-notice', BROKER);
    await row(BROKER).waitFor();
    assert.equal(await row(BROKER).getByTestId('broker-cell-address').innerText(), 'relay.example.org:3478');
    assert.equal(await row(BROKER).getByTestId('broker-cell-sessions').innerText(), '0');
    assert.equal(await row(BROKER).getByTestId('broker-built-in').count(), 0);
    assert.deepEqual(await configIds(), ['embedded', BROKER]);

    // The same name again is refused by the server, and said so.
    await page.getByTestId('broker-id').fill(BROKER);
    await page.getByTestId('broker-urls').fill(URLS[0]);
    await page.getByTestId('broker-add-submit').click();
    await showsText(page, 'broker-form-error', /already exists/);
  });

  step('the admin removes it after confirming', async () => {
    await row(BROKER).getByTestId('broker-remove').click();
    await visible(page, 'confirm-dialog');
    await page.getByTestId('confirm-cancel').click();
    assert.equal(await row(BROKER).count(), 1);

    await row(BROKER).getByTestId('broker-remove').click();
    await page.getByTestId('confirm-submit').click();
    await showsText(page, 'brokers-notice', `Removed ${BROKER}`);
    await until(async () => (await row(BROKER).count()) === 0, 'the removed broker to leave the list');
    assert.deepEqual(await configIds(), ['embedded']);
  });
});
