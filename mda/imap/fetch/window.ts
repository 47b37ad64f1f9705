/*
 * Per-message work of one command (FETCH rendering, SEARCH evaluation) with a few messages in
 * flight at once, results taken in message order. A message that is not cached yet costs several
 * file-system round trips through libuv's thread pool, which every session of the process shares;
 * one at a time, a 40-message SEARCH or a 20-envelope FETCH waited for 100+ of them in a row behind
 * the other sessions' requests (docs/performance.md). Bounded by a count and by the messages'
 * stated sizes (what their reads and parses hold in memory), always at least one in flight.
 * Distrusts: nothing: a failure of one item surfaces when its turn comes; the items still in
 * flight then finish unobserved.
 */

export interface WindowLimits<T> {
  /** Most items in flight. */
  readonly count: number;
  /** Most bytes in flight by `size` (a single larger item still runs, alone). */
  readonly bytes: number;
  readonly size: (item: T) => number;
}

/** Messages in flight for a FETCH or SEARCH, and the bytes their files may hold meanwhile. */
export const MESSAGE_WINDOW: Omit<WindowLimits<unknown>, 'size'> = { count: 8, bytes: 4 * 1024 * 1024 };

/** Runs `fn` over `items` within `limits` and hands each result to `each` in item order. */
export async function inOrder<T, R>(items: readonly T[], limits: WindowLimits<T>, fn: (item: T) => Promise<R>, each: (result: R, item: T) => void | Promise<void>): Promise<void> {
  const flight: { item: T; result: Promise<R>; size: number }[] = [];
  let next = 0;
  let bytes = 0;
  const fill = (): void => {
    while (next < items.length) {
      const item = items[next]!;
      const size = limits.size(item);
      if (flight.length > 0 && (flight.length >= limits.count || bytes + size > limits.bytes)) break;
      next++;
      const result = fn(item);
      result.catch(() => undefined);
      flight.push({ item, result, size });
      bytes += size;
    }
  };
  fill();
  while (flight.length > 0) {
    const head = flight.shift()!;
    bytes -= head.size;
    const r = await head.result;
    fill();
    await each(r, head.item);
  }
}
