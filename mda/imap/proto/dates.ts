/*
 * IMAP dates (RFC 3501 §9 `date`, `date-time`): SEARCH's `1-Feb-1994` (also quoted) and APPEND's
 * `"01-Feb-1994 21:13:05 -0800"`, parsed as Dovecot's imap-date.c does: month names case-insensitive,
 * day 1 or 2 digits, and the day is not checked against the month (Dovecot lets mktime normalise
 * `32-Jan-2020`, so `SEARCH SINCE 32-Jan-2020` is accepted). Formatting uses Dovecot's INTERNALDATE
 * shape `"dd-Mon-yyyy hh:mm:ss +zzzz"` with a two-digit, zero-padded day.
 */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export interface ImapDate {
  readonly year: number;
  readonly month: number; // 1..12
  readonly day: number;
}

export interface ImapDateTime extends ImapDate {
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** Zone offset in minutes east of UTC. */
  readonly zoneMinutes: number;
  /** The instant (ms since epoch). */
  readonly time: number;
}

function month(name: string): number {
  const i = MONTHS.findIndex((m) => m.toLowerCase() === name.toLowerCase());
  return i + 1;
}

/** `d-Mon-yyyy` / `dd-Mon-yyyy`; undefined if invalid. */
export function parseImapDate(text: string): ImapDate | undefined {
  const m = /^([0-9]{1,2})-([A-Za-z]{3})-([0-9]{4})$/.exec(text);
  if (!m) return undefined;
  const mon = month(m[2]!);
  if (mon === 0) return undefined;
  return { year: Number(m[3]), month: mon, day: Number(m[1]) };
}

/** Midnight of the date in UTC, normalised like mktime (32-Jan → 1-Feb). */
export function imapDateToUtc(d: ImapDate): number {
  return Date.UTC(d.year, d.month - 1, d.day);
}

/** `dd-Mon-yyyy hh:mm:ss +zzzz` (day may be space-padded: ` 1-Feb-…`). */
export function parseImapDateTime(text: string): ImapDateTime | undefined {
  const m = /^([ 0-9]?[0-9])-([A-Za-z]{3})-([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) ([+-])([0-9]{2})([0-9]{2})$/.exec(text);
  if (!m) return undefined;
  const mon = month(m[2]!);
  if (mon === 0) return undefined;
  const day = Number(m[1]!.trim());
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6])];
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  const zoneMinutes = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]));
  const time = Date.UTC(Number(m[3]), mon - 1, day, hour, minute, second) - zoneMinutes * 60_000;
  return { year: Number(m[3]), month: mon, day, hour, minute, second, zoneMinutes, time };
}

/** INTERNALDATE text (without quotes) for an instant shown in the given zone. */
export function formatImapDateTime(time: number, zoneMinutes = 0): string {
  const d = new Date(time + zoneMinutes * 60_000);
  const p2 = (n: number) => String(n).padStart(2, '0');
  const sign = zoneMinutes < 0 ? '-' : '+';
  const z = Math.abs(zoneMinutes);
  return `${p2(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${sign}${p2(Math.floor(z / 60))}${p2(z % 60)}`;
}
