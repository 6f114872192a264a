// Sets up accounts and enrollment tokens through the REST API (Node's
// fetch), for tests whose subject is elsewhere.

/** Calls `method path` on `baseUrl` with an optional bearer token and JSON body; resolves to `{ status, body }`. */
export async function call(baseUrl, method, path, { token, body } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(new URL(path, baseUrl), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** Like `call`, but rejects unless the status is 2xx; resolves to the body. */
export async function ok(baseUrl, method, path, options) {
  const { status, body } = await call(baseUrl, method, path, options);
  if (status < 200 || status > 299) throw new Error(`${method} ${path} answered ${status}: ${JSON.stringify(body)}`);
  return body;
}

/** Logs in; resolves to the access token. */
export async function login(baseUrl, username, password) {
  const { access_token: token } = await ok(baseUrl, 'POST', '/api/auth/login', { body: { username, password } });
  return token;
}

/** Logs in with a one-time password, replaces it, and logs in again; resolves to the access token. */
export async function firstLogin(baseUrl, username, oneTimePassword, newPassword) {
  const token = await login(baseUrl, username, oneTimePassword);
  await ok(baseUrl, 'POST', '/api/me/password', {
    token,
    body: { current_password: oneTimePassword, new_password: newPassword },
  });
  return login(baseUrl, username, newPassword);
}

/** Creates an account (admin token); it must change `password` at first login. */
export function createUser(baseUrl, adminToken, { username, displayName, role, password }) {
  return ok(baseUrl, 'POST', '/api/users', {
    token: adminToken,
    body: { username, display_name: displayName, role, password },
  });
}

/** Issues an enrollment token (admin token); resolves to its secret. */
export async function createEnrollmentToken(baseUrl, adminToken, label) {
  const created = await ok(baseUrl, 'POST', '/api/enrollment-tokens', {
    token: adminToken,
    body: { label, ttl_minutes: 60, max_uses: 1 },
  });
  return created.token;
}

/** The session policy in force (any signed-in account's token). */
export function getSessionPolicy(baseUrl, token) {
  return ok(baseUrl, 'GET', '/api/policies/session', { token });
}

/**
 * Replaces the session policy (admin token): `policy` is
 * `{ code_lifetime_secs, max_wrong_guesses, user_acceptance, acceptance_timeout_secs }`,
 * fields left out taking their defaults (900, 5, true, 120). Resolves to the saved policy.
 */
export function setSessionPolicy(baseUrl, adminToken, policy) {
  return ok(baseUrl, 'PUT', '/api/policies/session', { token: adminToken, body: policy });
}

/**
 * Lets the default policy allow unattended access (a session then starts
 * unasked on an agent run with --unattended; both must allow it).
 */
export function allowUnattended(baseUrl, adminToken) {
  return changeDefaultAccess(baseUrl, adminToken, { unattended: true });
}

/** Changes the fields `changes` names in the default policy's access rules. */
export async function changeDefaultAccess(baseUrl, adminToken, changes) {
  const policy = await ok(baseUrl, 'GET', '/api/policies/default', { token: adminToken });
  return ok(baseUrl, 'PUT', '/api/policies/default', {
    token: adminToken,
    body: { ...policy, access: { ...policy.access, ...changes } },
  });
}

/** The signalling protocol this build speaks (`tether_shared::signal::PROTOCOL_VERSION`), for raw socket messages. */
export const PROTOCOL_VERSION = 12;
