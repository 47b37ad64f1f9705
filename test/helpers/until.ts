/*
 * Polling for a condition in tests that drive daemons: `until(what, cond)` resolves once cond()
 * holds and fails the test with "timed out waiting for <what>" after `ms`.
 */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
