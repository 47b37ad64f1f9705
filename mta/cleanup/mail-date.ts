/*
 * RFC 5322 dates as Postfix writes them (src/global/mail_date.c): local time,
 * `%a, %e %b %Y %H:%M:%S +hhmm (ZONE)` — note %e, a space-padded day, so a single-digit day reads
 * `Tue,  5 Mar 2024 …` with two spaces, as in real Postfix headers. Pure apart from the time zone.
 *
 * Cost: every message gets one (the Received field), so the zone name does not go through
 * strftime's %Z, which builds a new Intl.DateTimeFormat per call (~150 µs, 5–9 % of smtpd's CPU per
 * message in a profile of smtp-source into the MTA). The formatter is built once per value of
 * process.env.TZ (Node follows a change of TZ at run time; a cached formatter would not) and asked
 * for the same `short` zone name, so the text is the same as strftime's %Z. The whole text is kept
 * for the second it names (a date has no finer part), so messages received in the same second share it.
 */
import { strftime } from '../../shared/log/strftime.js';

let zoneFormat: { tz: string | undefined; fmt: Intl.DateTimeFormat } | undefined;

function zoneName(d: Date, tz: string | undefined): string {
  if (zoneFormat === undefined || zoneFormat.tz !== tz) {
    zoneFormat = { tz, fmt: new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }) };
  }
  const part = zoneFormat.fmt.formatToParts(d).find((p) => p.type === 'timeZoneName');
  return part?.value ?? 'UTC';
}

/** The last date written, per whole second and TZ value: under load many messages share a second. */
let last: { tz: string | undefined; second: number; text: string } | undefined;

export function mailDate(d: Date): string {
  const tz = process.env['TZ'];
  const second = Math.floor(d.getTime() / 1000);
  if (last !== undefined && last.second === second && last.tz === tz) return last.text;
  const text = `${strftime('%a, %e %b %Y %H:%M:%S %z', d)} (${zoneName(d, tz)})`;
  last = { tz, second, text };
  return text;
}

/** The time stamp in a generated short-ID Message-Id: `YYYYMMDDHHMMSS` in UTC (gmtime, as Postfix). */
export function messageIdStamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}
