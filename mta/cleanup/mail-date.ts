/*
 * RFC 5322 dates as Postfix writes them (src/global/mail_date.c): local time,
 * `%a, %e %b %Y %H:%M:%S +hhmm (ZONE)` — note %e, a space-padded day, so a single-digit day reads
 * `Tue,  5 Mar 2024 …` with two spaces, as in real Postfix headers. Pure apart from the time zone.
 */
import { strftime } from '../../shared/log/strftime.js';

export function mailDate(d: Date): string {
  return strftime('%a, %e %b %Y %H:%M:%S %z (%Z)', d);
}

/** The time stamp in a generated short-ID Message-Id: `YYYYMMDDHHMMSS` in UTC (gmtime, as Postfix). */
export function messageIdStamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}
