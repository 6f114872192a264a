// Waiting for a condition with a deadline, never for a fixed time.

/**
 * Polls `check` (every `everyMs`) until it returns a truthy value, which it
 * resolves to; rejects after `deadlineMs`, naming `what` and, if given, the
 * last value `describe()` returns (to show how far things got).
 */
export async function until(check, what, { deadlineMs = 20_000, everyMs = 50, describe } = {}) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) {
      const state = describe ? `\nlast seen: ${JSON.stringify(await describe())}` : '';
      throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}${state}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
