/*
 * Evaluates a SEARCH key tree (proto/search-keys.ts) against the messages of the selected view
 * (RFC 3501 §6.4.4, RFC 5032 OLDER/YOUNGER, RFC 7162 MODSEQ, RFC 5182 `$`):
 *  - flags, sequence sets, UIDs and MODSEQ from the index; \Recent from the view;
 *  - dates: BEFORE/ON/SINCE on INTERNALDATE's day in the server's zone, SENT* on the Date: header's
 *    own day (zone ignored, as RFC 3501 asks); a missing or unparsable Date: counts as
 *    1-Jan-1970, as real Dovecot 2.3 matches it (mail_get_date() gives 0; checked with its imap:
 *    SENTON 1-Jan-1970 matches, SENTSINCE 2-Jan-1970 does not, whatever the INTERNALDATE);
 *    SAVED* (RFC 8514) on the save date's day in the server's zone, SAVEDATESUPPORTED when the
 *    storage keeps save dates;
 *  - HEADER/FROM/…: substring of the decoded, unfolded value (an empty string matches any message
 *    that has the field); BODY: substring of the decoded text of every part; TEXT: header or body;
 *    comparisons use decode-text.ts's case mapping.
 * Message content is read and parsed only when a key needs it, once per message. Header keys
 * (HEADER/FROM/…, SENT*, TEXT's header half) use the top-level header through the process-wide
 * content cache (fetch/content-cache.ts, with the decoded search forms of its values), so a
 * repeated SEARCH reads no message file for them; only BODY/TEXT parse the whole message. Keys
 * that may read files are evaluated for a few messages at once (fetch/window.ts), results in order.
 * Distrusts: message content (parsed leniently), dates (an unparsable Date: is the epoch).
 */
import { hasSaveDates, saveDateOf, type MailboxView, type MessageInfo } from '../../storage/api.js';
import { cachedHeaderNow, messageHeader, type HeaderHandle } from '../fetch/content-cache.js';
import { inOrder, MESSAGE_WINDOW } from '../fetch/window.js';
import { parseMessage, type ParsedMessage } from '../message/message.js';
import type { MimePart } from '../message/mime-structure.js';
import { decodeTransfer } from '../message/transfer-decode.js';
import { rangesContain, type SequenceSet } from '../proto/sequence-set.js';
import type { SearchKey } from '../proto/search-keys.js';
import { decodeCharset, decodeHeaderValue, searchForm } from './decode-text.js';

export interface SearchEnv {
  readonly view: MailboxView;
  readonly saved: readonly number[];
  readonly now: number;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** The day (UTC midnight ms) written in a Date: header, or undefined. */
export function sentDay(value: string): number | undefined {
  const m = /(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{2,4})/.exec(value);
  if (!m) return undefined;
  const mon = MONTHS.indexOf(m[2]!.toLowerCase());
  if (mon < 0) return undefined;
  let year = Number(m[3]);
  if (m[3]!.length === 2) year += year < 50 ? 2000 : 1900;
  return Date.UTC(year, mon, Number(m[1]));
}

function inSet(set: SequenceSet, n: number, star: number, saved: readonly number[], uidOf: number): boolean {
  if (set.type === 'saved') return saved.includes(uidOf);
  return rangesContain(set.ranges, n, star);
}

class MessageContext {
  private parsed: ParsedMessage | undefined;
  private bodyText: string | undefined;
  private date: Date | undefined;
  private hdr: HeaderHandle | undefined;
  constructor(readonly env: SearchEnv, readonly m: MessageInfo) {}
  async message(): Promise<ParsedMessage> {
    return (this.parsed ??= parseMessage(await this.env.view.read(this.m.uid)));
  }
  /** The top-level header (cached across commands and sessions). */
  async header(): Promise<HeaderHandle> {
    return (this.hdr ??= await messageHeader(this.env.view, this.m, () => this.parsed?.root.header.fields));
  }
  async internal(): Promise<Date> {
    return (this.date ??= await this.env.view.internalDate(this.m.uid));
  }
  /** The header if the cache holds it now. */
  headerNow(): HeaderHandle | undefined {
    return (this.hdr ??= cachedHeaderNow(this.env.view, this.m));
  }
  /** INTERNALDATE if the view knows it without a read. */
  internalNow(): Date | undefined {
    return (this.date ??= this.env.view.internalDateNow?.(this.m.uid));
  }
  async body(): Promise<string> {
    if (this.bodyText !== undefined) return this.bodyText;
    const msg = await this.message();
    const parts: string[] = [];
    const walk = (p: MimePart) => {
      if (p.kind === 'multipart') p.children.forEach(walk);
      else if (p.kind === 'message' && p.children[0]) {
        const c = p.children[0];
        parts.push(c.header.fields.map((f) => decodeHeaderValue(f.value)).join('\n'));
        walk(c);
      } else {
        const raw = msg.raw.slice(p.bodyStart, p.bodyEnd);
        const d = decodeTransfer(p.info.isMime ? p.info.encoding : undefined, raw);
        const charset = p.info.params.find((x) => x.name.toLowerCase() === 'charset')?.value;
        parts.push(decodeCharset(d.ok ? d.data : raw, charset ?? 'utf-8'));
      }
    };
    walk(msg.root);
    return (this.bodyText = searchForm(parts.join('\n')));
  }
}

function dayOf(d: Date): number {
  const local = d.getTime() - d.getTimezoneOffset() * 60_000;
  const x = new Date(local);
  return Date.UTC(x.getUTCFullYear(), x.getUTCMonth(), x.getUTCDate());
}

function cmpDay(day: number, cmp: 'before' | 'on' | 'since', date: number): boolean {
  return cmp === 'before' ? day < date : cmp === 'on' ? day === date : day >= date;
}

/**
 * Whether message `m` matches a key that needs only the view's index (readsContent false), answered
 * without a promise per message and per key: most searches a client sends (UNSEEN, FLAGGED, UID
 * ranges) are these, and an async test of every message was most of such a SEARCH's CPU.
 */
function testIndexed(k: SearchKey, m: MessageInfo, star: { seq: number; uid: number }, env: SearchEnv): boolean {
  switch (k.op) {
    case 'and':
      return k.keys.every((s) => testIndexed(s, m, star, env));
    case 'or':
      return testIndexed(k.a, m, star, env) || testIndexed(k.b, m, star, env);
    case 'not':
      return !testIndexed(k.key, m, star, env);
    case 'all':
      return true;
    case 'seqset':
      return inSet(k.set, m.seq, star.seq, env.saved, m.uid);
    case 'uid':
      return inSet(k.set, m.uid, star.uid, env.saved, m.uid);
    case 'flag': {
      const has = k.flag === '\\Recent' ? m.recent : k.flag.startsWith('\\') ? m.flags.includes(k.flag) : m.flags.some((f) => f.toLowerCase() === k.flag.toLowerCase());
      return has === k.set;
    }
    case 'modseq':
      return BigInt(m.modseq) >= k.modseq;
    case 'savedatesupported':
      return hasSaveDates(env.view);
    default:
      throw new Error(`search key ${k.op} reads the message`);
  }
}

type KeyOf<Op extends SearchKey['op']> = Extract<SearchKey, { op: Op }>;

/** searchForm of a key's value, worked out once per key (not once per message tested). */
const wantedForms = new WeakMap<SearchKey, string>();
function wanted(k: KeyOf<'header' | 'body' | 'text'>): string {
  let w = wantedForms.get(k);
  if (w === undefined) {
    w = searchForm(k.value);
    wantedForms.set(k, w);
  }
  return w;
}

function sizeMatches(k: KeyOf<'size'>, size: number): boolean {
  return k.cmp === 'larger' ? size > k.size : size < k.size;
}

function withinMatches(k: KeyOf<'within'>, internal: Date, now: number): boolean {
  const t = internal.getTime();
  const limit = now - k.seconds * 1000;
  return k.cmp === 'older' ? t <= limit : t > limit;
}

function sentMatches(k: KeyOf<'date'>, h: HeaderHandle): boolean {
  const f = h.fields.find((x) => x.name.length === 4 && x.name.toLowerCase() === 'date');
  const day = f === undefined ? undefined : sentDay(f.value);
  return cmpDay(day ?? 0, k.cmp, k.date);
}

function headerMatches(k: KeyOf<'header'>, h: HeaderHandle): boolean {
  const want = wanted(k);
  const name = k.field.toLowerCase();
  for (let i = 0; i < h.fields.length; i++) {
    const f = h.fields[i]!;
    // The length first: most fields differ in it, and that costs no lower-cased copy.
    if (f.name.length !== name.length || f.name.toLowerCase() !== name) continue;
    if (want === '') return true;
    if (h.derived(`v${i}`, () => searchForm(decodeHeaderValue(f.value))).includes(want)) return true;
  }
  return false;
}

/**
 * test() answered without waiting, from the index and what the caches already hold (the header
 * cache, INTERNALDATE known to the view); undefined when the answer needs a read. A SEARCH over
 * a mailbox whose headers are cached is then one synchronous pass, not a promise chain per
 * message (an await per key and message was most of a header SEARCH's CPU).
 */
function testNow(k: SearchKey, c: MessageContext, star: { seq: number; uid: number }): boolean | undefined {
  const m = c.m;
  switch (k.op) {
    case 'and': {
      let unknown = false;
      for (const s of k.keys) {
        const r = testNow(s, c, star);
        if (r === false) return false;
        if (r === undefined) unknown = true;
      }
      return unknown ? undefined : true;
    }
    case 'or': {
      const a = testNow(k.a, c, star);
      if (a === true) return true;
      const b = testNow(k.b, c, star);
      if (b === true) return true;
      return a === false && b === false ? false : undefined;
    }
    case 'not': {
      const r = testNow(k.key, c, star);
      return r === undefined ? undefined : !r;
    }
    case 'size':
      return m.virtualSize === undefined ? undefined : sizeMatches(k, m.virtualSize);
    case 'within': {
      const d = c.internalNow();
      return d === undefined ? undefined : withinMatches(k, d, c.env.now);
    }
    case 'date': {
      if (k.field === 'saved') return undefined;
      if (k.field === 'sent') {
        const h = c.headerNow();
        return h === undefined ? undefined : sentMatches(k, h);
      }
      const d = c.internalNow();
      return d === undefined ? undefined : cmpDay(dayOf(d), k.cmp, k.date);
    }
    case 'header': {
      const h = c.headerNow();
      return h === undefined ? undefined : headerMatches(k, h);
    }
    case 'body':
    case 'text':
      return undefined;
    default:
      return testIndexed(k, m, star, c.env);
  }
}

async function test(k: SearchKey, c: MessageContext, star: { seq: number; uid: number }): Promise<boolean> {
  const m = c.m;
  if (!readsContent(k)) return testIndexed(k, m, star, c.env);
  switch (k.op) {
    case 'and':
      for (const s of k.keys) if (!(await test(s, c, star))) return false;
      return true;
    case 'or':
      return (await test(k.a, c, star)) || test(k.b, c, star);
    case 'not':
      return !(await test(k.key, c, star));
    case 'size':
      return sizeMatches(k, m.virtualSize ?? (await c.env.view.messageSizes(m.uid)).virtual);
    case 'within':
      return withinMatches(k, await c.internal(), c.env.now);
    case 'date':
      if (k.field === 'sent') return sentMatches(k, await c.header());
      if (k.field === 'saved') {
        const d = await saveDateOf(c.env.view, m.uid);
        return d !== undefined && cmpDay(dayOf(d), k.cmp, k.date);
      }
      return cmpDay(dayOf(await c.internal()), k.cmp, k.date);
    case 'header':
      return headerMatches(k, await c.header());
    case 'body':
      return (await c.body()).includes(wanted(k));
    case 'text': {
      const want = wanted(k);
      const h = await c.header();
      const hdr = h.derived('text', () => searchForm(h.fields.map((f) => `${f.name}: ${decodeHeaderValue(f.value)}`).join('\n')));
      return hdr.includes(want) || (await c.body()).includes(want);
    }
    default:
      return testIndexed(k, m, star, c.env);
  }
}

/** Whether evaluating `k` may wait for the file system (content keys, dates, sizes). */
function readsContent(k: SearchKey): boolean {
  switch (k.op) {
    case 'and':
      return k.keys.some(readsContent);
    case 'or':
      return readsContent(k.a) || readsContent(k.b);
    case 'not':
      return readsContent(k.key);
    case 'header':
    case 'body':
    case 'text':
    case 'size':
    case 'within':
    case 'date':
      return true;
    default:
      return false;
  }
}

/** Whether one message of the view matches `key` (CONTEXT=SEARCH re-evaluation); expunged = false. */
export async function messageMatches(env: SearchEnv, key: SearchKey, m: MessageInfo): Promise<boolean> {
  const all = env.view.messages();
  const star = { seq: all.length, uid: all.length > 0 ? all[all.length - 1]!.uid : 0 };
  try {
    return await test(key, new MessageContext(env, m), star);
  } catch (err) {
    if ((err as { kind?: string }).kind === 'EXPUNGED') return false;
    throw err;
  }
}

/** The messages matching `key`, in sequence order. */
export async function searchMessages(env: SearchEnv, key: SearchKey): Promise<MessageInfo[]> {
  const all = env.view.messages();
  const star = { seq: all.length, uid: all.length > 0 ? all[all.length - 1]!.uid : 0 };
  // Keys answered from the index need no window; content keys read files, a few at a time.
  const one = async (m: MessageInfo): Promise<boolean> => {
    try {
      return await test(key, new MessageContext(env, m), star);
    } catch (err) {
      if ((err as { kind?: string }).kind === 'EXPUNGED') return false;
      throw err;
    }
  };
  if (!readsContent(key)) return all.filter((m) => testIndexed(key, m, star, env));
  // What the caches answer now, in one pass; the rest read their messages, a few at a time.
  const now = all.map((m) => testNow(key, new MessageContext(env, m), star));
  const rest = all.filter((_, i) => now[i] === undefined);
  if (rest.length === 0) return all.filter((_, i) => now[i]);
  const hits = new Set<MessageInfo>();
  await inOrder(rest, { ...MESSAGE_WINDOW, size: (m) => m.physicalSize ?? 0 }, one, (hit, m) => void (hit && hits.add(m)));
  return all.filter((m, i) => now[i] ?? hits.has(m));
}
