/*
 * The Maildir++ `maildirsize` file (shared with Courier; Dovecot quota-maildir.c): line 1 holds
 * the limits (`10485760S`, optionally `,<n>C`), each later line a `<bytes> <count>` delta, the
 * first of them the full recount. Sizes are physical (`S=`) sizes. Dovecot recalculates when the
 * file does not parse, is over 5120 bytes, carries other limits than the configuration, or shows
 * the user over quota with more than one delta line or when older than 15 minutes. The pure
 * parse/format functions are here; mda/storage/quota.ts does the I/O.
 *
 * Distrusts the file (anyone with the user's uid can write it): any malformed line means
 * "recalculate", never a wrong number.
 */

export interface MaildirSize {
  /** Limits from line 1 (0 = none). */
  readonly bytesLimit: number;
  readonly countLimit: number;
  readonly bytes: number;
  readonly count: number;
  /** Number of delta lines (the recount included). */
  readonly lines: number;
}

export const MAILDIRSIZE_MAX_BYTES = 5120;
export const MAILDIRSIZE_MAX_AGE_MS = 15 * 60 * 1000;

export function formatLimits(bytes: number, count: number): string {
  const parts: string[] = [];
  if (bytes > 0 || count === 0) parts.push(`${bytes}S`);
  if (count > 0) parts.push(`${count}C`);
  return parts.join(',');
}

/** Parses the file; undefined when it must be recalculated because it is broken. */
export function parseMaildirSize(text: string): MaildirSize | undefined {
  if (text.length > MAILDIRSIZE_MAX_BYTES || !text.endsWith('\n')) return undefined;
  const lines = text.slice(0, -1).split('\n');
  const head = lines.shift();
  if (head === undefined) return undefined;
  let bytesLimit = 0;
  let countLimit = 0;
  for (const p of head.split(',')) {
    const m = /^(\d+)([SC])$/.exec(p.trim());
    if (m === null) return undefined;
    if (m[2] === 'S') bytesLimit = Number(m[1]);
    else countLimit = Number(m[1]);
  }
  let bytes = 0;
  let count = 0;
  for (const l of lines) {
    const m = /^\s*(-?\d+)\s+(-?\d+)\s*$/.exec(l);
    if (m === null) return undefined;
    bytes += Number(m[1]);
    count += Number(m[2]);
  }
  if (lines.length === 0 || bytes < 0 || count < 0) return undefined;
  return { bytesLimit, countLimit, bytes, count, lines: lines.length };
}
