/*
 * Maildir message filenames as Dovecot 2.3 writes and reads them (maildir-filename.c,
 * maildir-filename-flags.c): `<sec>.M<usec>P<pid>.<host>[,S=<size>][,W=<vsize>][:2,<flags>[,<extra>]]`.
 * Pure functions only.
 *
 * - The base name (everything before `:`) is the message's identity: the uidlist key, the X-GUID and
 *   what COPY/MOVE hard-link under. It never changes when flags change.
 * - Flags after `:2,` are written in ASCII order: D F P R S T, then `a`-`z` for keywords 0-25 of
 *   `dovecot-keywords`. Letters we do not map (P, X, digits) are kept across renames, as is anything
 *   after a further `,`.
 * - Hostnames escape `/` as `\057` and `:` as `\072` (the maildir convention) so they can never
 *   split a path or start the info part.
 *
 * Distrusts: names written by other programs (Courier, procmail, mutt): sizes are taken only when
 * they are plain digits ending at `,` `:` or the end, exactly as Dovecot does.
 */

export type SystemFlag = '\\Answered' | '\\Flagged' | '\\Deleted' | '\\Seen' | '\\Draft';

/** Dovecot's order of system flags in FETCH FLAGS and doveadm output. */
export const SYSTEM_FLAGS: readonly SystemFlag[] = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

const LETTER_TO_FLAG: ReadonlyMap<string, SystemFlag> = new Map<string, SystemFlag>([
  ['D', '\\Draft'], ['F', '\\Flagged'], ['R', '\\Answered'], ['S', '\\Seen'], ['T', '\\Deleted'],
]);
const FLAG_TO_LETTER: ReadonlyMap<SystemFlag, string> = new Map([...LETTER_TO_FLAG].map(([l, f]) => [f, l]));

/** Keywords that fit in a filename: letters a-z. */
export const MAX_FILENAME_KEYWORDS = 26;

export const INFO_SEP = ':';

export interface ParsedFilename {
  /** Everything before the first `:`; unique per mailbox; includes `,S=…,W=…`. */
  readonly base: string;
  /** The flag letters after `:2,` (up to a further `,`), or '' when there are none. */
  readonly letters: string;
  /** Text after the flag letters, starting with `,` (kept verbatim), or ''. */
  readonly extra: string;
  /** True when the name has a `:2,` info part (or any `:` info at all). */
  readonly hasInfo: boolean;
  /** `S=` physical size, when the name carries a valid one. */
  readonly size: number | undefined;
  /** `W=` virtual (CRLF) size, when the name carries a valid one. */
  readonly vsize: number | undefined;
}

/** Thrown for a name that can never be a message file (empty, `/`, NUL). */
export class MaildirNameError extends Error {
  override readonly name = 'MaildirNameError';
}

/** Reads the `,<type>=<digits>` field from a base name, as maildir_filename_get_size() does. */
export function filenameSize(name: string, type: 'S' | 'W'): number | undefined {
  const marker = `,${type}=`;
  const colon = name.indexOf(INFO_SEP);
  const base = colon < 0 ? name : name.slice(0, colon);
  const at = base.indexOf(marker);
  if (at < 0) return undefined;
  let i = at + marker.length;
  let digits = '';
  while (i < base.length && base.charCodeAt(i) >= 0x30 && base.charCodeAt(i) <= 0x39) digits += base[i++];
  if (i < base.length && base[i] !== ',') return undefined;
  if (digits === '') return undefined;
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : undefined;
}

export function parseFilename(name: string): ParsedFilename {
  if (name === '' || name.includes('/') || name.includes('\0')) {
    throw new MaildirNameError(`invalid maildir filename: ${JSON.stringify(name)}`);
  }
  const colon = name.indexOf(INFO_SEP);
  const base = colon < 0 ? name : name.slice(0, colon);
  let letters = '';
  let extra = '';
  if (colon >= 0) {
    const info = name.slice(colon + 1);
    if (info.startsWith('2,')) {
      const rest = info.slice(2);
      const comma = rest.indexOf(',');
      letters = comma < 0 ? rest : rest.slice(0, comma);
      extra = comma < 0 ? '' : rest.slice(comma);
    }
  }
  return { base, letters, extra, hasInfo: colon >= 0, size: filenameSize(base, 'S'), vsize: filenameSize(base, 'W') };
}

export interface DecodedFlags {
  readonly system: readonly SystemFlag[];
  /** Keyword indexes (0-25) into dovecot-keywords, ascending. */
  readonly keywords: readonly number[];
  /** Letters we keep but do not interpret (P, X, digits…), in their original order. */
  readonly other: string;
}

export function decodeFlagLetters(letters: string): DecodedFlags {
  const system = new Set<SystemFlag>();
  const keywords = new Set<number>();
  let other = '';
  for (const ch of letters) {
    const flag = LETTER_TO_FLAG.get(ch);
    if (flag !== undefined) system.add(flag);
    else if (ch >= 'a' && ch <= 'z') keywords.add(ch.charCodeAt(0) - 0x61);
    else if (!other.includes(ch)) other += ch;
  }
  return {
    system: SYSTEM_FLAGS.filter((f) => system.has(f)),
    keywords: [...keywords].sort((a, b) => a - b),
    other,
  };
}

/** Builds the sorted, de-duplicated letter string Dovecot writes after `:2,`. */
export function encodeFlagLetters(system: Iterable<SystemFlag>, keywords: Iterable<number>, other = ''): string {
  const set = new Set<string>();
  for (const f of system) {
    const l = FLAG_TO_LETTER.get(f);
    if (l !== undefined) set.add(l);
  }
  for (const k of keywords) {
    if (!Number.isInteger(k) || k < 0 || k >= MAX_FILENAME_KEYWORDS) throw new RangeError(`keyword index ${k} has no letter`);
    set.add(String.fromCharCode(0x61 + k));
  }
  for (const ch of other) set.add(ch);
  return [...set].sort().join('');
}

/** The full filename for `base` with `letters`; `extra` (from parseFilename) is kept. */
export function formatFilename(base: string, letters: string, extra = ''): string {
  return `${base}${INFO_SEP}2,${letters}${extra}`;
}

/** Escapes a hostname for use in a base name (`/` -> `\057`, `:` -> `\072`). */
export function escapeHostname(host: string): string {
  return host.replace(/\//g, '\\057').replace(/:/g, '\\072');
}

/** Dovecot's unique part: `<sec>.M<usec>P<pid>.<host>`. */
export function formatUniqueBase(sec: number, usec: number, pid: number, host: string): string {
  return `${sec}.M${usec}P${pid}.${escapeHostname(host)}`;
}

/** Appends `,S=<size>,W=<vsize>` as Dovecot does for every mail it saves. */
export function withSizes(unique: string, size: number, vsize: number): string {
  return `${unique},S=${size},W=${vsize}`;
}

function leadingSeconds(name: string): [number, number] {
  let i = 0;
  let secs = 0;
  while (i < name.length && name.charCodeAt(i) >= 0x30 && name.charCodeAt(i) <= 0x39) {
    secs = secs * 10 + (name.charCodeAt(i) - 0x30);
    i++;
  }
  return [secs, i];
}

function usecsAfter(name: string, at: number): number | undefined {
  if (name[at] !== '.') return undefined;
  for (let i = at + 1; i < name.length && name[i] !== '.' && name[i] !== INFO_SEP; i++) {
    if (name[i] === 'M') {
      let j = i + 1;
      let us = 0;
      while (j < name.length && name.charCodeAt(j) >= 0x30 && name.charCodeAt(j) <= 0x39) {
        us = us * 10 + (name.charCodeAt(j) - 0x30);
        j++;
      }
      return us;
    }
  }
  return undefined;
}

function baseOf(name: string): string {
  const c = name.indexOf(INFO_SEP);
  return c < 0 ? name : name.slice(0, c);
}

/**
 * Order in which new files get UIDs (maildir_filename_sort_cmp): leading seconds, then the `M`
 * microseconds when both names have them, then the base names bytewise.
 */
export function compareForUidOrder(a: string, b: string): number {
  const [sa, ia] = leadingSeconds(a);
  const [sb, ib] = leadingSeconds(b);
  if (sa !== sb) return sa - sb;
  const ua = usecsAfter(a, ia);
  const ub = usecsAfter(b, ib);
  if (ua !== undefined && ub !== undefined && ua !== ub) return ua - ub;
  const ba = baseOf(a.slice(ia));
  const bb = baseOf(b.slice(ib));
  return ba < bb ? -1 : ba > bb ? 1 : 0;
}
