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
import { mailboxMatcher } from './mailbox-mask.js';

export { mailboxMatcher };


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

/** Words each IMAP key takes after its name (MODSEQ's optional entry form is not supported). */
const ARITY: Record<string, number> = {
  BCC: 1, BEFORE: 1, BODY: 1, CC: 1, FROM: 1, KEYWORD: 1, LARGER: 1, ON: 1, SENTBEFORE: 1, SENTON: 1, SENTSINCE: 1,
  SINCE: 1, SMALLER: 1, SUBJECT: 1, TEXT: 1, TO: 1, UID: 1, UNKEYWORD: 1, OLDER: 1, YOUNGER: 1, SAVEDBEFORE: 1,
  SAVEDON: 1, SAVEDSINCE: 1, MODSEQ: 1, HEADER: 2, MAILBOX: 1, 'MAILBOX-GUID': 1,
};

type Chunk = { readonly words: string[] } | { readonly group: Chunk[][] } | { readonly not: Chunk };

/** Splits one level into key chunks; `or` words separate OR operands (returned as null markers). */
function chunks(words: readonly string[], pos: { i: number }, nested: boolean): (Chunk | null)[] {
  const out: (Chunk | null)[] = [];
  while (pos.i < words.length) {
    const w = words[pos.i]!;
    if (w === ')') {
      if (!nested) throw new QueryError('Unexpected )');
      pos.i++;
      return out;
    }
    if (w.toUpperCase() === 'OR') {
      pos.i++;
      out.push(null);
      continue;
    }
    out.push(oneChunk(words, pos));
  }
  if (nested) throw new QueryError('Missing )');
  return out;
}

function oneChunk(words: readonly string[], pos: { i: number }): Chunk {
  const w = words[pos.i++];
  if (w === undefined) throw new QueryError('Missing argument');
  if (w === '(') return { group: [chunks(words, pos, true) as Chunk[]] };
  const up = w.toUpperCase();
  if (up === 'NOT') return { not: oneChunk(words, pos) };
  const n = ARITY[up] ?? 0;
  const taken = words.slice(pos.i, pos.i + n);
  if (taken.length < n) throw new QueryError('Missing argument');
  pos.i += n;
  return { words: [w, ...taken] };
}

/** A query node: IMAP keys plus the mailbox selectors, decided per mailbox. */
export type QueryNode =
  | { readonly op: 'imap'; readonly key: SearchKey }
  | { readonly op: 'mailbox'; readonly mask: string }
  | { readonly op: 'mailbox-guid'; readonly guid: string }
  | { readonly op: 'and' | 'or'; readonly items: readonly QueryNode[] }
  | { readonly op: 'not'; readonly node: QueryNode };

/**
 * mail-search-build.c's list rule: a list is AND until an `or` appears, then every member of the
 * list is ORed (`a b or c` = a OR b OR c); a member without `or` after that is refused.
 */
function combine(list: readonly (Chunk | null)[]): QueryNode {
  const items: QueryNode[] = [];
  let isOr = false;
  let pendingOr = false;
  for (const c of list) {
    if (c === null) {
      if (items.length === 0 || pendingOr) throw new QueryError('Missing argument');
      pendingOr = true;
      continue;
    }
    if (pendingOr) isOr = true;
    else if (isOr) throw new QueryError('Use parenthesis when mixing ANDs and ORs');
    pendingOr = false;
    items.push(chunkNode(c));
  }
  if (pendingOr) throw new QueryError('Missing argument');
  if (items.length === 0) throw new QueryError('Missing argument');
  return items.length === 1 ? items[0]! : { op: isOr ? 'or' : 'and', items };
}

function chunkNode(c: Chunk): QueryNode {
  if ('not' in c) return { op: 'not', node: chunkNode(c.not) };
  if ('group' in c) return combine(c.group[0]!);
  const up = c.words[0]!.toUpperCase();
  if (up === 'MAILBOX') return { op: 'mailbox', mask: c.words[1]! };
  if (up === 'MAILBOX-GUID') return { op: 'mailbox-guid', guid: c.words[1]! };
  return { op: 'imap', key: parseSearchProgram(toImapArgs(c.words)).key };
}

export interface DoveadmQuery {
  readonly root: QueryNode;
  /** Literal mailbox names ANDed at the top level (search reports them when missing). */
  readonly literalMailboxes: readonly string[];
}

export function parseDoveadmQuery(words: readonly string[]): DoveadmQuery {
  const root = combine(chunks(words, { i: 0 }, false));
  const top = root.op === 'and' ? root.items : [root];
  const literalMailboxes = top.flatMap((n) => (n.op === 'mailbox' && !/[*%]/.test(n.mask) ? [n.mask] : []));
  return { root, literalMailboxes };
}

/** True when every OR branch holds something besides mailbox selectors (expunge's safety rule). */
export function hasMessageKeyEverywhere(n: QueryNode): boolean {
  switch (n.op) {
    case 'imap': return true;
    case 'mailbox':
    case 'mailbox-guid': return false;
    case 'not': return hasMessageKeyEverywhere(n.node);
    case 'and': return n.items.some(hasMessageKeyEverywhere);
    case 'or': return n.items.every(hasMessageKeyEverywhere);
  }
}

const ALL: SearchKey = { op: 'all' };
const NONE: SearchKey = { op: 'not', key: ALL };
const isAll = (k: SearchKey): boolean => k.op === 'all';
const isNone = (k: SearchKey): boolean => k.op === 'not' && k.key.op === 'all';

/** The IMAP key for one mailbox, mailbox selectors folded to ALL / NOT ALL. */
export function keyForMailbox(n: QueryNode, name: string, guid: string, separator: string): SearchKey {
  switch (n.op) {
    case 'imap': return n.key;
    case 'mailbox': return mailboxMatcher([n.mask], separator)(name) ? ALL : NONE;
    case 'mailbox-guid': return n.guid === guid ? ALL : NONE;
    case 'not': {
      const k = keyForMailbox(n.node, name, guid, separator);
      return isAll(k) ? NONE : isNone(k) ? ALL : { op: 'not', key: k };
    }
    case 'and': {
      const keys = n.items.map((i) => keyForMailbox(i, name, guid, separator)).filter((k) => !isAll(k));
      if (keys.some(isNone)) return NONE;
      return keys.length === 0 ? ALL : keys.length === 1 ? keys[0]! : { op: 'and', keys };
    }
    case 'or': {
      const keys = n.items.map((i) => keyForMailbox(i, name, guid, separator)).filter((k) => !isNone(k));
      if (keys.some(isAll)) return ALL;
      if (keys.length === 0) return NONE;
      return keys.reduceRight((b, a) => ({ op: 'or', a, b }));
    }
  }
}

/** Whether the query can match anything in a mailbox at all. */
export function mailboxExcluded(key: SearchKey): boolean {
  return isNone(key);
}
