/*
 * SEARCH criteria (RFC 3501 §6.4.4 and §9 `search-key`, RFC 4731 RETURN options are the caller's,
 * RFC 5032 OLDER/YOUNGER, RFC 7162 MODSEQ, RFC 5182 `$`, RFC 8514 SAVEDBEFORE/SAVEDON/SAVEDSINCE)
 * parsed from the generic arguments into a typed tree. A top-level list of keys and a
 * parenthesised group both mean AND. `CHARSET x` is accepted only first, as RFC 3501 says.
 *
 * Error texts are Dovecot's mail-search-parser-imap.c ones: "Unknown argument X", "Missing argument",
 * "Invalid messageset"; dates are not range-checked beyond what Dovecot checks.
 * Distrusts: nesting depth (bounded by the parser's list depth and an OR/NOT chain limit).
 */
import { COMMAND_TEXT, ImapSyntaxError } from './errors.js';
import { imapDateToUtc, parseImapDate } from './dates.js';
import { isSequenceSet, parseSequenceSet, type SequenceSet } from './sequence-set.js';
import { argAstring, type ImapArg } from './values.js';

export type DateField = 'internal' | 'sent' | 'saved';
export type DateOp = 'before' | 'on' | 'since';

export type SearchKey =
  | { readonly op: 'and'; readonly keys: readonly SearchKey[] }
  | { readonly op: 'or'; readonly a: SearchKey; readonly b: SearchKey }
  | { readonly op: 'not'; readonly key: SearchKey }
  | { readonly op: 'all' }
  | { readonly op: 'seqset'; readonly set: SequenceSet }
  | { readonly op: 'uid'; readonly set: SequenceSet }
  /** System flag or keyword; `set` false for UNSEEN, UNKEYWORD etc. */
  | { readonly op: 'flag'; readonly flag: string; readonly set: boolean }
  | { readonly op: 'header'; readonly field: string; readonly value: string }
  | { readonly op: 'body'; readonly value: string }
  | { readonly op: 'text'; readonly value: string }
  | { readonly op: 'date'; readonly field: DateField; readonly cmp: DateOp; readonly date: number }
  | { readonly op: 'size'; readonly cmp: 'larger' | 'smaller'; readonly size: number }
  | { readonly op: 'within'; readonly cmp: 'older' | 'younger'; readonly seconds: number }
  | { readonly op: 'modseq'; readonly modseq: bigint; readonly entry: { name: string; type: 'priv' | 'shared' | 'all' } | undefined }
  | { readonly op: 'savedatesupported' };

export interface SearchProgram {
  readonly charset: string | undefined;
  readonly key: SearchKey;
}

const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ['\\Answered', true],
  DELETED: ['\\Deleted', true],
  DRAFT: ['\\Draft', true],
  FLAGGED: ['\\Flagged', true],
  RECENT: ['\\Recent', true],
  SEEN: ['\\Seen', true],
  UNANSWERED: ['\\Answered', false],
  UNDELETED: ['\\Deleted', false],
  UNDRAFT: ['\\Draft', false],
  UNFLAGGED: ['\\Flagged', false],
  UNSEEN: ['\\Seen', false],
};

const HEADER_KEYS: Record<string, string> = { BCC: 'Bcc', CC: 'Cc', FROM: 'From', SUBJECT: 'Subject', TO: 'To' };

const DATE_KEYS: Record<string, [DateField, DateOp]> = {
  BEFORE: ['internal', 'before'],
  ON: ['internal', 'on'],
  SINCE: ['internal', 'since'],
  SENTBEFORE: ['sent', 'before'],
  SENTON: ['sent', 'on'],
  SENTSINCE: ['sent', 'since'],
  SAVEDBEFORE: ['saved', 'before'],
  SAVEDON: ['saved', 'on'],
  SAVEDSINCE: ['saved', 'since'],
};

class Reader {
  i = 0;
  constructor(readonly args: readonly ImapArg[]) {}
  more(): boolean {
    return this.i < this.args.length;
  }
  next(): ImapArg {
    const a = this.args[this.i++];
    if (a === undefined) throw new ImapSyntaxError(COMMAND_TEXT.missingArgument);
    return a;
  }
  string(): string {
    const s = argAstring(this.next());
    if (s === undefined) throw new ImapSyntaxError(COMMAND_TEXT.invalidArguments);
    return s;
  }
  atom(): string {
    const a = this.next();
    if (a.type !== 'atom') throw new ImapSyntaxError(COMMAND_TEXT.invalidArguments);
    return a.value;
  }
  number(): number {
    const s = this.atom();
    if (!/^[0-9]{1,19}$/.test(s)) throw new ImapSyntaxError(COMMAND_TEXT.invalidArguments);
    return Number(s);
  }
}

/** Parses SEARCH's arguments after any RETURN (...) option, including a leading CHARSET. */
export function parseSearchProgram(args: readonly ImapArg[]): SearchProgram {
  const r = new Reader(args);
  let charset: string | undefined;
  const first = args[0];
  if (first?.type === 'atom' && first.value.toUpperCase() === 'CHARSET') {
    r.next();
    charset = r.string();
  }
  if (!r.more()) throw new ImapSyntaxError(COMMAND_TEXT.missingArgument);
  const keys: SearchKey[] = [];
  while (r.more()) keys.push(parseKey(r, 0));
  return { charset, key: keys.length === 1 ? keys[0]! : { op: 'and', keys } };
}

const MAX_DEPTH = 200;

function parseKey(r: Reader, depth: number): SearchKey {
  if (depth > MAX_DEPTH) throw new ImapSyntaxError(COMMAND_TEXT.invalidArguments);
  const arg = r.next();
  if (arg.type === 'list') {
    if (arg.items.length === 0) throw new ImapSyntaxError(COMMAND_TEXT.missingArgument);
    const sub = new Reader(arg.items);
    const keys: SearchKey[] = [];
    while (sub.more()) keys.push(parseKey(sub, depth + 1));
    return keys.length === 1 ? keys[0]! : { op: 'and', keys };
  }
  if (arg.type !== 'atom') throw new ImapSyntaxError(COMMAND_TEXT.invalidArguments);
  const word = arg.value.toUpperCase();
  if (isSequenceSet(arg.value)) return { op: 'seqset', set: seq(arg.value) };
  const flag = FLAG_KEYS[word];
  if (flag) return { op: 'flag', flag: flag[0], set: flag[1] };
  const header = HEADER_KEYS[word];
  if (header) return { op: 'header', field: header, value: r.string() };
  const date = DATE_KEYS[word];
  if (date) {
    const text = r.string();
    const d = parseImapDate(text);
    if (!d) throw new ImapSyntaxError(COMMAND_TEXT.invalidArguments);
    return { op: 'date', field: date[0], cmp: date[1], date: imapDateToUtc(d) };
  }
  switch (word) {
    case 'ALL':
      return { op: 'all' };
    case 'NEW':
      return { op: 'and', keys: [{ op: 'flag', flag: '\\Recent', set: true }, { op: 'flag', flag: '\\Seen', set: false }] };
    case 'OLD':
      return { op: 'flag', flag: '\\Recent', set: false };
    case 'KEYWORD':
      return { op: 'flag', flag: r.atom(), set: true };
    case 'UNKEYWORD':
      return { op: 'flag', flag: r.atom(), set: false };
    case 'HEADER': {
      const field = r.string();
      return { op: 'header', field, value: r.string() };
    }
    case 'BODY':
      return { op: 'body', value: r.string() };
    case 'TEXT':
      return { op: 'text', value: r.string() };
    case 'LARGER':
      return { op: 'size', cmp: 'larger', size: r.number() };
    case 'SMALLER':
      return { op: 'size', cmp: 'smaller', size: r.number() };
    case 'OLDER':
      return { op: 'within', cmp: 'older', seconds: r.number() };
    case 'YOUNGER':
      return { op: 'within', cmp: 'younger', seconds: r.number() };
    case 'UID':
      return { op: 'uid', set: seq(r.atom()) };
    case 'NOT':
      return { op: 'not', key: parseKey(r, depth + 1) };
    case 'OR': {
      const a = parseKey(r, depth + 1);
      return { op: 'or', a, b: parseKey(r, depth + 1) };
    }
    case 'SAVEDATESUPPORTED':
      return { op: 'savedatesupported' };
    case 'MODSEQ':
      return parseModseq(r);
    default:
      throw new ImapSyntaxError(`Unknown argument ${word}`);
  }
}

function seq(text: string): SequenceSet {
  return parseSequenceSet(text);
}

/** RFC 7162: MODSEQ [<entry-name> <entry-type-req>] <mod-sequence-valzer>. */
function parseModseq(r: Reader): SearchKey {
  const a = r.next();
  let entry: { name: string; type: 'priv' | 'shared' | 'all' } | undefined;
  let valueArg = a;
  if (a.type === 'quoted' || a.type === 'literal') {
    const type = r.atom().toLowerCase();
    if (type !== 'priv' && type !== 'shared' && type !== 'all') throw new ImapSyntaxError(COMMAND_TEXT.invalidArguments);
    entry = { name: a.value, type };
    valueArg = r.next();
  }
  if (valueArg.type !== 'atom' || !/^[0-9]{1,20}$/.test(valueArg.value)) throw new ImapSyntaxError(COMMAND_TEXT.invalidArguments);
  const modseq = BigInt(valueArg.value);
  if (modseq >= 2n ** 63n) throw new ImapSyntaxError(COMMAND_TEXT.invalidArguments);
  return { op: 'modseq', modseq, entry };
}
