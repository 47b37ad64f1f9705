/*
 * doveadm's search query (doveadm-search(7), Dovecot 2.3's "human" search parser): the IMAP
 * SEARCH keys written as separate words (`subject hello`, `( seen or flagged )`), plus
 * `mailbox <name or mask>` and `mailbox-guid <guid>`, dates also as `yyyy-mm-dd`, a UNIX
 * timestamp or an interval (`savedbefore 30d`), sizes with units (`larger 10k`).
 * The IMAP part is handed to mda/imap/proto/search-keys.ts unchanged; this file only splits off
 * the mailbox selection (top-level AND only: `mailbox` inside OR/NOT is refused) and rewrites the
 * human forms into IMAP ones. Pure; distrusts the words (errors are UsageError / the IMAP
 * parser's syntax errors with Dovecot's texts).
 */
import { parseSearchProgram, type SearchKey } from '../../imap/proto/search-keys.js';
import { atom, list, quoted, type ImapArg } from '../../imap/proto/values.js';

export interface DoveadmQuery {
  /** `mailbox` masks (AND: every one must match); empty = all mailboxes. */
  readonly mailboxes: readonly string[];
  readonly mailboxGuids: readonly string[];
  /** The message key; undefined when the query held only mailbox selectors. */
  readonly key: SearchKey | undefined;
}

export class QueryError extends Error {
  override readonly name = 'QueryError';
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DATE_KEYS = new Set(['BEFORE', 'ON', 'SINCE', 'SENTBEFORE', 'SENTON', 'SENTSINCE', 'SAVEDBEFORE', 'SAVEDON', 'SAVEDSINCE']);
const UNIT_SECONDS: Record<string, number> = {
  s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
  m: 60, min: 60, mins: 60, minute: 60, minutes: 60,
  h: 3600, hour: 3600, hours: 3600,
  d: 86400, day: 86400, days: 86400,
  w: 604800, week: 604800, weeks: 604800,
};
const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

function imapDate(d: Date): string {
  return `${d.getUTCDate()}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()}`;
}

/** Rewrites one date value: IMAP date stays; yyyy-mm-dd and timestamps become IMAP dates; intervals become OLDER/YOUNGER. */
function dateWords(key: string, value: string): ImapArg[] {
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (iso) return [atom(key), atom(imapDate(new Date(Date.UTC(Number(iso[1]), Number(iso[2]) - 1, Number(iso[3])))))];
  if (/^\d{9,}$/.test(value)) return [atom(key), atom(imapDate(new Date(Number(value) * 1000)))];
  const iv = /^(\d+)\s*([a-z]+)$/i.exec(value);
  if (iv && UNIT_SECONDS[iv[2]!.toLowerCase()] !== undefined && !key.startsWith('SENT')) {
    const secs = Number(iv[1]) * UNIT_SECONDS[iv[2]!.toLowerCase()]!;
    if (key.endsWith('BEFORE')) return [atom('OLDER'), atom(String(secs))];
    if (key.endsWith('SINCE')) return [atom('YOUNGER'), atom(String(secs))];
  }
  return [atom(key), word(value)];
}

function word(w: string): ImapArg {
  return /^[\x21-\x7e]+$/.test(w) && !/[()"\\{]/.test(w) ? atom(w) : quoted(w);
}

/** argv words → IMAP args with `(` `)` as lists; human forms rewritten. */
function toImapArgs(words: readonly string[]): ImapArg[] {
  const stack: ImapArg[][] = [[]];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const top = stack[stack.length - 1]!;
    if (w === '(') {
      stack.push([]);
      continue;
    }
    if (w === ')') {
      if (stack.length === 1) throw new QueryError('Unexpected )');
      const items = stack.pop()!;
      stack[stack.length - 1]!.push(list(...items));
      continue;
    }
    const up = w.toUpperCase();
    if (up === 'MAILBOX' || up === 'MAILBOX-GUID') throw new QueryError(`${w} is supported only at the top level of the query`);
    if (DATE_KEYS.has(up) && words[i + 1] !== undefined) {
      top.push(...dateWords(up, words[++i]!));
      continue;
    }
    if ((up === 'LARGER' || up === 'SMALLER') && words[i + 1] !== undefined) {
      const m = /^(\d+)([bkmgt]?)$/i.exec(words[++i]!);
      top.push(atom(up), m ? atom(String(Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!)) : word(words[i]!));
      continue;
    }
    top.push(word(w));
  }
  if (stack.length !== 1) throw new QueryError('Missing )');
  return stack[0]!;
}

export function parseDoveadmQuery(words: readonly string[]): DoveadmQuery {
  const mailboxes: string[] = [];
  const mailboxGuids: string[] = [];
  const rest: string[] = [];
  let depth = 0;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const up = w.toUpperCase();
    if (w === '(') depth++;
    else if (w === ')') depth--;
    if (depth === 0 && (up === 'MAILBOX' || up === 'MAILBOX-GUID')) {
      const v = words[++i];
      if (v === undefined) throw new QueryError('Missing argument');
      (up === 'MAILBOX' ? mailboxes : mailboxGuids).push(v);
      continue;
    }
    rest.push(w);
  }
  const key = rest.length === 0 ? undefined : parseSearchProgram(toImapArgs(rest)).key;
  return { mailboxes, mailboxGuids, key };
}

/** IMAP LIST-style mask matcher: `*` anything, `%` anything but the separator; INBOX any case. */
export function mailboxMatcher(masks: readonly string[], separator: string): (name: string) => boolean {
  const esc = (t: string): string => t.replace(/[.+^${}()|[\]\\?]/g, '\\$&');
  const res = masks.map((m) => {
    const mask = /^inbox$/i.test(m.slice(0, 5)) && (m.length === 5 || m.slice(5, 5 + separator.length) === separator) ? `INBOX${m.slice(5)}` : m;
    const body = mask.split('').map((c) => (c === '*' ? '.*' : c === '%' ? `[^${esc(separator)}]*` : esc(c))).join('');
    return new RegExp(`^${body}$`, 's');
  });
  return (name) => masks.length === 0 || res.some((r) => r.test(name));
}
