/*
 * Typed setting values of dovecot.conf (2.3): checks a value against its type and rewrites it the way doveconf
 * prints it (`YES` → `yes`, `65536` → `64 k`, `120s` → `2 mins`, mode `600` → `01130`). Pure.
 *
 * Follows Dovecot 2.3.19's settings-parser and config export (checked against the real doveconf): booleans
 * accept yes/y/1 and no/n/0 in any case; sizes and times print in the largest unit that divides them exactly;
 * octal settings read a leading 0 as octal and anything else as decimal. Error texts are Dovecot's.
 * Distrusts: the value text.
 */

export type SettingType = 'str' | 'bool' | 'uint' | 'oct' | 'size' | 'time' | 'port' | `enum:${string}`;

export type Normalised = { ok: true; value: string } | { ok: false; error: string };

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
const SIZE_SUFFIX = ['B', 'k', 'M', 'G', 'T'] as const;

/** Formats a byte count as doveconf does: `0`, `600 B`, `64 k`, `10 M`. */
export function formatSize(n: bigint): string {
  if (n === 0n) return '0';
  let i = 0;
  while (i < SIZE_SUFFIX.length - 1 && n % 1024n === 0n) {
    n /= 1024n;
    i++;
  }
  return `${n} ${SIZE_SUFFIX[i]}`;
}

/** Formats seconds as doveconf does: `0`, `90 secs`, `2 mins`, `1 hours`, `1 days`, `1 weeks`. */
export function formatTime(secs: number): string {
  if (secs === 0) return '0';
  let n = secs;
  let unit = 'secs';
  if (n % 60 === 0) {
    n /= 60; unit = 'mins';
    if (n % 60 === 0) {
      n /= 60; unit = 'hours';
      if (n % 24 === 0) {
        n /= 24; unit = 'days';
        if (n % 7 === 0) { n /= 7; unit = 'weeks'; }
      }
    }
  }
  return `${n} ${unit}`;
}

/** Parses a Dovecot size (`64k`, `10 M`, `1G`) to bytes, or undefined. */
export function parseSize(s: string): bigint | undefined {
  const m = /^(\d+)\s*([bkmgt]?)(?:i?b)?$/i.exec(s.trim());
  if (m === null) return undefined;
  return BigInt(m[1] ?? '0') * BigInt(SIZE_UNITS[(m[2] ?? '').toLowerCase()] ?? 1);
}

const TIME_UNITS: ReadonlyArray<readonly [RegExp, number]> = [
  [/^(ms|msecs?|milliseconds?)$/i, 0.001],
  [/^(s|secs?|seconds?)$/i, 1],
  [/^(m|mins?|minutes?)$/i, 60],
  [/^(h|hours?)$/i, 3600],
  [/^(d|days?)$/i, 86400],
  [/^(w|weeks?)$/i, 604800],
];

/** Parses a Dovecot time interval to seconds; `missing-units` for a bare non-zero number. */
export function parseTime(s: string): number | 'missing-units' | undefined {
  const m = /^(\d+)\s*([a-z]*)$/i.exec(s.trim());
  if (m === null) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? '';
  if (unit === '') return n === 0 ? 0 : 'missing-units';
  for (const [re, mul] of TIME_UNITS) if (re.test(unit)) return Math.floor(n * mul);
  return undefined;
}

/** Parses yes/no the way Dovecot does. */
export function parseBool(s: string): boolean | undefined {
  const v = s.toLowerCase();
  if (v === 'yes' || v === 'y' || v === '1') return true;
  if (v === 'no' || v === 'n' || v === '0') return false;
  return undefined;
}

function parseUint(s: string): number | undefined {
  return /^\d+$/.test(s) && Number(s) <= 0xffffffff ? Number(s) : undefined;
}

/** Checks `raw` against `type` and returns the text doveconf would print for it. */
export function normaliseValue(type: SettingType, raw: string): Normalised {
  switch (type) {
    case 'str':
      return { ok: true, value: raw };
    case 'bool': {
      const b = parseBool(raw);
      return b === undefined ? { ok: false, error: `Invalid boolean value: ${raw} (use yes or no)` } : { ok: true, value: b ? 'yes' : 'no' };
    }
    case 'uint': {
      const n = parseUint(raw);
      return n === undefined ? { ok: false, error: `Invalid number ${raw}: Not a valid number` } : { ok: true, value: String(n) };
    }
    case 'oct': {
      const n = raw.startsWith('0') ? (/^[0-7]+$/.test(raw) ? parseInt(raw, 8) : undefined) : parseUint(raw);
      return n === undefined ? { ok: false, error: `Invalid number ${raw}: Not a valid number` } : { ok: true, value: `0${n.toString(8)}` };
    }
    case 'port': {
      const n = parseUint(raw);
      return n === undefined || n > 65535 ? { ok: false, error: `Invalid port number ${raw}` } : { ok: true, value: String(n) };
    }
    case 'size': {
      const n = parseSize(raw);
      return n === undefined ? { ok: false, error: `Invalid size: ${raw}` } : { ok: true, value: formatSize(n) };
    }
    case 'time': {
      const t = parseTime(raw);
      if (t === 'missing-units') return { ok: false, error: `Time interval '${raw}' is missing units (add e.g. 's' for seconds)` };
      return t === undefined ? { ok: false, error: `Invalid time interval: ${raw}` } : { ok: true, value: formatTime(t) };
    }
    default: {
      const allowed = type.slice('enum:'.length).split(':');
      return allowed.includes(raw) ? { ok: true, value: raw } : { ok: false, error: `Invalid value: ${raw}` };
    }
  }
}
