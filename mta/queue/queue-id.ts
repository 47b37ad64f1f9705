/*
 * Queue ID encoding (pure).
 *
 * Postfix 3.7 (reference/postfix.md §6.2, postconf(5) enable_long_queue_ids):
 *  - short form: upper-case hex, 5 digits of the microsecond part of the clock, then the queue
 *    file's inode number in hex (`A745520E479`);
 *  - long form: a 52-character alphabet (0-9, B-Z, b-z without vowels), at least 6 digits of epoch
 *    seconds, 4 digits of microseconds, a literal `z`, then the inode number (`3Pt2mN2VXxznjll`).
 * Postern has no inode per message, so a per-process counter stands in for it; the store checks the
 * candidate against the queue (and IDs handed out but not yet stored) so an ID still in the queue is
 * never reused. Input distrusted: IDs typed by administrators (isValidQueueId).
 */

export const LONG_ID_ALPHABET = '0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz';
const BASE = LONG_ID_ALPHABET.length; // 52

/** Counter range for short IDs: always 6 hex digits, like a typical inode number in the observed IDs. */
const SHORT_COUNTER_MIN = 0x100000;
const SHORT_COUNTER_SPAN = 0xf00000;
/** Counter range for long IDs: always 4 base-52 digits. */
const LONG_COUNTER_MIN = BASE ** 3;
const LONG_COUNTER_SPAN = BASE ** 4 - BASE ** 3;

/** Base-52 digits of a non-negative integer, left-padded with `0` to `width`. */
export function base52(n: number, width = 1): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`base52: bad value ${n}`);
  let out = '';
  do {
    out = LONG_ID_ALPHABET[n % BASE] + out;
    n = Math.floor(n / BASE);
  } while (n > 0);
  return out.padStart(width, '0');
}

export function decodeBase52(s: string): number {
  let n = 0;
  for (const ch of s) {
    const d = LONG_ID_ALPHABET.indexOf(ch);
    if (d < 0) throw new RangeError(`not a base-52 digit: ${ch}`);
    n = n * BASE + d;
  }
  return n;
}

/** Short form: `%05X` of the microseconds, then the counter in hex. */
export function shortQueueId(usec: number, counter: number): string {
  const c = SHORT_COUNTER_MIN + (counter % SHORT_COUNTER_SPAN);
  return usec.toString(16).toUpperCase().padStart(5, '0') + c.toString(16).toUpperCase();
}

/** Long form: seconds (≥ 6 digits), microseconds (4 digits), `z`, counter (4 digits). */
export function longQueueId(epochSeconds: number, usec: number, counter: number): string {
  const c = LONG_COUNTER_MIN + (counter % LONG_COUNTER_SPAN);
  return base52(epochSeconds, 6) + base52(usec, 4) + 'z' + base52(c, 4);
}

/**
 * Postfix's mail_queue_id_ok(): non-empty, at most 255 characters, letters, digits and `_` only.
 * Anything else ("bad/id", "../x") is refused before it is used as a key.
 */
export function isValidQueueId(s: string): boolean {
  return /^[A-Za-z0-9_]{1,255}$/.test(s);
}

export interface QueueIdGenerator {
  /** A fresh ID; `isTaken` says whether a candidate is in the queue (the generator retries then). */
  next(isTaken: (id: string) => boolean): string;
}

/**
 * `clockMs` returns epoch milliseconds, fractional parts carrying the microseconds.
 * `seed` picks the counter's starting point (random by default, so two processes rarely meet).
 * `slot` partitions the counter among the processes that enqueue into one queue (the master and
 * each smtpd process, postern_smtpd_processes): process `index` of `count` only ever produces
 * counters ≡ index (mod count), so two of them can never produce the same ID, even in the same
 * microsecond. The store's enqueue transaction still refuses an ID that is in use.
 */
export function createQueueIdGenerator(opts: {
  long: boolean;
  clockMs: () => number;
  seed?: number;
  slot?: { index: number; count: number };
}): QueueIdGenerator {
  const count = Math.max(1, opts.slot?.count ?? 1);
  const index = Math.min(Math.max(0, opts.slot?.index ?? 0), count - 1);
  // Whole multiples of `count` inside the span, so the wrap-around keeps every residue apart.
  const rounds = Math.floor((opts.long ? LONG_COUNTER_SPAN : SHORT_COUNTER_SPAN) / count);
  let counter = opts.seed ?? Math.floor(Math.random() * 0x7fffffff);
  return {
    next(isTaken) {
      for (let tries = 0; tries < 1000; tries++) {
        const ms = opts.clockMs();
        const totalUsec = Math.floor(ms * 1000);
        const sec = Math.floor(totalUsec / 1_000_000);
        const usec = totalUsec - sec * 1_000_000;
        counter = (counter + 1) % 0x7fffffff;
        const slotted = (counter % rounds) * count + index;
        const id = opts.long ? longQueueId(sec, usec, slotted) : shortQueueId(usec, slotted);
        if (!isTaken(id)) return id;
      }
      throw new Error('queue ID space exhausted');
    },
  };
}
