/*
 * The sent date of a message as Dovecot 2.3 reads the Date: header for SORT DATE and THREAD
 * (lib-mail/message-date.c): `[weekday ","] d[d] month [yy]yy h[h]:mm[:ss] [zone]` over RFC 822
 * atoms (comments and folding skipped), `.` also accepted as the time separator, two-digit years
 * are 1970-2069, a four-digit year must be >= 1900, numeric, UT/GMT, [ECMP][SD]T and military
 * zones (with Dovecot's sign convention) and any unknown zone counts as +0000. Field values out
 * of range (30 Feb, 25:61) make the date invalid, as utc_mktime refuses a normalised result;
 * a leap second :60 is taken as :59.
 * Returns seconds since the epoch, or undefined when there is no valid date (callers then use
 * the arrival time, as Dovecot does).
 * Distrusts: the header (any text).
 */

import { atextEnd, skipCfws } from '../message/rfc822-tokens.js';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

class Atoms {
  pos = 0;
  constructor(readonly s: string) {}
  skipCfws(): void {
    this.pos = skipCfws(this.s, this.pos);
  }
  /** Next atom ('' at the end or before a special). */
  atom(): string {
    const start = this.pos;
    this.pos = atextEnd(this.s, this.pos);
    const a = this.s.slice(start, this.pos);
    if (a !== '') this.skipCfws();
    return a;
  }
  get ch(): string | undefined {
    return this.s[this.pos];
  }
}

function zoneMinutes(z: string): number {
  if (z.length === 5 && (z[0] === '+' || z[0] === '-') && /^[0-9]{4}$/.test(z.slice(1))) {
    const off = Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5));
    return z[0] === '+' ? off : -off;
  }
  if (z.length === 1) {
    const up = z.toUpperCase();
    const c = z.charCodeAt(0);
    if (up < 'J') return (c - 0x41 + 1) * 60;
    if (up === 'J') return 0;
    if (up <= 'M') return (c - 0x41) * 60;
    if (up < 'Z') return (0x4d - c) * 60;
    return 0;
  }
  if (z.length === 3 && z[2] === 'T') {
    const base: Record<string, number> = { E: -300, C: -360, M: -420, P: -480 };
    const b = base[z[0]!.toUpperCase()];
    if (b === undefined) return 0;
    const k = z[1]!.toUpperCase();
    if (k === 'D') return b + 60;
    if (k === 'S') return b;
  }
  return 0;
}

const digits = (s: string, min: number, max: number): boolean => s.length >= min && s.length <= max && /^[0-9]+$/.test(s);

/** Seconds since the epoch, or undefined. */
export function parseSentDate(value: string): number | undefined {
  const p = new Atoms(value);
  p.skipCfws();
  let tok = p.atom();
  if (tok === '') return undefined;
  if (tok.length === 3) {
    if (p.ch !== ',') return undefined;
    p.pos++;
    p.skipCfws();
    tok = p.atom();
  }
  if (!/^[0-9]/.test(tok) || tok.length > 2 || !digits(tok, 1, 2)) return undefined;
  const day = Number(tok);
  const mon = p.atom();
  if (mon.length < 3) return undefined;
  const month = MONTHS.indexOf(mon.slice(0, 3).toLowerCase());
  if (month < 0) return undefined;
  const y = p.atom();
  if ((y.length !== 2 && y.length !== 4) || !digits(y, 2, 4)) return undefined;
  let year = Number(y);
  if (y.length === 2) year += year < 70 ? 2000 : 1900;
  else if (year < 1900) return undefined;
  const h = p.atom();
  if (!digits(h, 1, 2)) return undefined;
  const hour = Number(h);
  if (p.ch !== ':' && p.ch !== '.') return undefined;
  p.pos++;
  p.skipCfws();
  const mi = p.atom();
  if (!digits(mi, 2, 2)) return undefined;
  const minute = Number(mi);
  let second = 0;
  if (p.ch === ':' || p.ch === '.') {
    p.pos++;
    p.skipCfws();
    const s = p.atom();
    if (!digits(s, 2, 2)) return undefined;
    second = Number(s);
  }
  const z = p.pos < value.length ? p.atom() : '';
  const zone = z === '' ? 0 : zoneMinutes(z);
  if (second === 60) second = 59;
  const t = Date.UTC(year, month, day, hour, minute, second);
  const d = new Date(t);
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month || d.getUTCDate() !== day
    || d.getUTCHours() !== hour || d.getUTCMinutes() !== minute || d.getUTCSeconds() !== second) return undefined;
  const secs = Math.floor(t / 1000);
  // utc_mktime's error value is (time_t)-1: Dovecot cannot tell 23:59:59 UTC on 31 Dec 1969 from it.
  if (secs === -1) return undefined;
  // Dovecot keeps the sent date as an unsigned 32-bit number: later dates wrap (2106 becomes 0,
  // which then counts as "no date"), earlier ones wrap to the far future.
  const wrapped = (((secs - zone * 60) % 2 ** 32) + 2 ** 32) % 2 ** 32;
  return wrapped === 0 ? undefined : wrapped;
}
