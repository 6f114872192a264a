// Steps through Tether's screens the way a person would, via data-testid.

/** Waits until `testid` is visible. */
export function visible(page, testid, options = {}) {
  return page.getByTestId(testid).first().waitFor({ state: 'visible', ...options });
}

/** Waits until an element with `testid` shows text matching `pattern`. */
export function showsText(page, testid, pattern) {
  return page.getByTestId(testid).filter({ hasText: pattern }).first().waitFor({ state: 'visible' });
}

/** Fills the login form and submits it. */
export async function signIn(page, username, password) {
  await visible(page, 'login-form');
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
}

/** Completes the forced password change shown after a one-time password. */
export async function changeOneTimePassword(page, oneTimePassword, newPassword) {
  await visible(page, 'password-form');
  await page.getByTestId('current-password').fill(oneTimePassword);
  await page.getByTestId('new-password').fill(newPassword);
  await page.getByTestId('confirm-password').fill(newPassword);
  await page.getByTestId('password-submit').click();
}

/** Waits for the app shell of `role`. */
export function shellOf(page, role) {
  return page.locator(`[data-testid="shell"][data-role="${role}"]`).waitFor({ state: 'visible' });
}

/** Logs out from the shell and waits for the login page. */
export async function logOut(page) {
  await page.getByTestId('logout-button').click();
  await visible(page, 'login-form');
}

/** Creates an account through the admin's "New user" dialog. */
export async function createUser(page, { username, displayName, role, password }) {
  await page.getByTestId('new-user-button').click();
  await visible(page, 'create-user-dialog');
  await page.getByTestId('create-username').fill(username);
  await page.getByTestId('create-display-name').fill(displayName);
  await page.getByTestId('create-role').selectOption(role);
  await page.getByTestId('create-password').fill(password);
  await page.getByTestId('create-user-submit').click();
  await page.getByTestId('create-user-dialog').waitFor({ state: 'detached' });
  await page.locator(`[data-testid="user-row"][data-username="${username}"]`).waitFor({ state: 'visible' });
}
