// What most browser suites start with: a fresh server and one Chromium page
// whose errors are collected, and the first administrator signed in.

import assert from 'node:assert/strict';
import { startServer } from './server.mjs';
import { launchBrowser, watchPageErrors } from './browser.mjs';
import { signIn, changeOneTimePassword, shellOf } from './ui.mjs';

/** Starts a server (`startServer` options) and a page; resolves to `{ server, browser, page, pageErrors }`. */
export async function openServerAndPage(serverOptions) {
  const server = await startServer(serverOptions);
  assert.ok(server.adminPassword, `the server printed no one-time password:\n${server.output.join('\n')}`);
  const browser = await launchBrowser();
  const page = await browser.context.newPage();
  return { server, browser, page, pageErrors: watchPageErrors(page) };
}

/** Stops what `openServerAndPage` started (either may be missing after a failed start). */
export async function closeServerAndPage({ server, browser }) {
  await browser?.close();
  await server?.stop();
}

/** Signs the first administrator in with the server's one-time password and sets `newPassword`. */
export async function signInFirstAdmin(page, server, newPassword) {
  await page.goto(server.url);
  await signIn(page, 'admin', server.adminPassword);
  await changeOneTimePassword(page, server.adminPassword, newPassword);
  await shellOf(page, 'admin');
}
