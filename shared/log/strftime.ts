/*
 * A small strftime(3) for log time stamps, local time, C locale.
 *
 * Postfix's maillog_file lines start with "%b %d %H:%M:%S " (src/util/msg_logger.c; note %d is
 * zero-padded, unlike classic syslog's space-padded day). Dovecot's `log_timestamp` setting is a
 * strftime format, default "%b %d %H:%M:%S ". Only the conversions those formats use in practice are
 * implemented; an unknown conversion is copied through as written, which is also what glibc does
 * for invalid ones.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

const pad = (n: number, width = 2, fill = '0'): string => String(n).padStart(width, fill);

function tzOffset(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}

function tzName(d: Date): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' })
    .formatToParts(d)
    .find((p) => p.type === 'timeZoneName');
  return part?.value ?? 'UTC';
}

function dayOfYear(d: Date): number {
  const start = new Date(d.getFullYear(), 0, 1);
  return Math.floor((d.getTime() - start.getTime()) / 86_400_000) + 1;
}

/** Formats `d` in local time with the subset of strftime conversions listed in the switch. */
export function strftime(format: string, d: Date): string {
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c !== '%' || i + 1 >= format.length) {
      out += c;
      continue;
    }
    const spec = format[++i];
    switch (spec) {
      case 'a': out += DAYS[d.getDay()]; break;
      case 'b': case 'h': out += MONTHS[d.getMonth()]; break;
      case 'd': out += pad(d.getDate()); break;
      case 'e': out += pad(d.getDate(), 2, ' '); break;
      case 'H': out += pad(d.getHours()); break;
      case 'M': out += pad(d.getMinutes()); break;
      case 'S': out += pad(d.getSeconds()); break;
      case 'Y': out += String(d.getFullYear()); break;
      case 'y': out += pad(d.getFullYear() % 100); break;
      case 'm': out += pad(d.getMonth() + 1); break;
      case 'j': out += pad(dayOfYear(d), 3); break;
      case 'z': out += tzOffset(d); break;
      case 'Z': out += tzName(d); break;
      case 's': out += String(Math.floor(d.getTime() / 1000)); break;
      case 'F': out += `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`; break;
      case 'T': out += `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`; break;
      case '%': out += '%'; break;
      default: out += `%${spec}`;
    }
  }
  return out;
}
