/*
 * One `* n FETCH (…)` response (RFC 3501 §7.4.2, RFC 3516 BINARY, RFC 7162 MODSEQ) in Dovecot 2.3's
 * item order: UID first for UID FETCH, FLAGS first when this FETCH set \Seen, then the items that
 * need no message content (UID FLAGS MODSEQ INTERNALDATE SAVEDATE RFC822.SIZE X-GUID) in request order, then
 * the rest (ENVELOPE, BODY, BODYSTRUCTURE, RFC822*, BODY[…], BINARY[…]) in request order. Section
 * data is always a literal (`{n}`, or `~{n}` for BINARY data holding NUL), as Dovecot sends it.
 * ENVELOPE, BODYSTRUCTURE and BODY come from the view's content cache (content-cache.ts) when
 * this view computed them before; the message is then not read at all.
 * Distrusts: the message file (parsed leniently by message/; a vanished file is EXPUNGED).
 */
import { saveDateOf, type MailboxView, type MessageInfo } from '../../storage/api.js';
import { ImapError } from '../errors.js';
import { cachedItem, messageHeader } from './content-cache.js';
import { bodyOf, bodyStructureOf, parseMessage, rfc822SizeOf, type ParsedMessage } from '../message/message.js';
import { applyPartial, findPart, hideNuls, sectionBytes } from '../message/section.js';
import { decodeTransfer } from '../message/transfer-decode.js';
import { toCrlf } from '../message/sizes.js';
import { buildEnvelope } from '../message/envelope.js';
import type { FieldList } from '../message/header.js';
import { formatImapDateTime } from '../proto/dates.js';
import type { FetchAttribute } from '../proto/fetch-attributes.js';
import { formatSection } from '../proto/section.js';
import type { ByteString } from '../proto/formatter.js';
import type { SessionStats } from '../session.js';

const CHEAP = new Set(['UID', 'FLAGS', 'MODSEQ', 'INTERNALDATE', 'SAVEDATE', 'RFC822.SIZE', 'X-GUID', 'X-MAILBOX']);

export function isCheap(a: FetchAttribute): boolean {
  return a.type === 'simple' && CHEAP.has(a.name);
}

export function needsContent(a: FetchAttribute): boolean {
  return !isCheap(a);
}

/** True if fetching this attribute sets \Seen (RFC 3501: BODY[…], RFC822, RFC822.TEXT, BINARY[…]). */
export function setsSeen(a: FetchAttribute): boolean {
  if (a.type === 'body' || a.type === 'binary') return !a.peek;
  return a.type === 'simple' && (a.name === 'RFC822' || a.name === 'RFC822.TEXT');
}

export interface RenderContext {
  readonly view: MailboxView;
  readonly flagsOf: (m: MessageInfo) => string;
  readonly stats: SessionStats;
}

/** `literal8` says whether Dovecot would send `~{n}`: BINARY data that was decoded or holds NUL. */
const lit = (data: ByteString, literal8 = false): ByteString => `${literal8 ? '~' : ''}{${data.length}}\r\n${data}`;

function partialSuffix(p: { offset: number } | undefined): string {
  return p === undefined ? '' : `<${p.offset}>`;
}

function binaryPart(msg: ParsedMessage, part: readonly number[]): { data: ByteString; decoded: boolean } | undefined {
  if (part.length === 0) return { data: toCrlf(msg.raw), decoded: false };
  const p = findPart(msg.root, part);
  if (p === undefined) return { data: '', decoded: false };
  if (p.kind === 'multipart') return { data: toCrlf(msg.raw.slice(p.bodyStart, p.bodyEnd)), decoded: false };
  const body = msg.raw.slice(p.bodyStart, p.bodyEnd);
  const enc = p.info.isMime ? p.info.encoding : undefined;
  const r = decodeTransfer(enc, body);
  if (!r.ok) return undefined;
  const e = (enc ?? '7bit').toLowerCase();
  const decoded = e === 'base64' || e === 'quoted-printable';
  return { data: decoded ? r.data : toCrlf(r.data), decoded };
}

async function one(ctx: RenderContext, m: MessageInfo, a: FetchAttribute, parsed: () => Promise<ParsedMessage>, header: () => Promise<FieldList>): Promise<string> {
  switch (a.type) {
    case 'simple':
      switch (a.name) {
        case 'UID':
          return `UID ${m.uid}`;
        case 'FLAGS':
          return `FLAGS ${ctx.flagsOf(m)}`;
        case 'MODSEQ':
          return `MODSEQ (${m.modseq})`;
        case 'INTERNALDATE': {
          const d = await ctx.view.internalDate(m.uid);
          return `INTERNALDATE "${formatImapDateTime(d.getTime(), -d.getTimezoneOffset())}"`;
        }
        case 'SAVEDATE': {
          // RFC 8514: NIL when the backend keeps no save dates.
          const d = await saveDateOf(ctx.view, m.uid);
          return d === undefined ? 'SAVEDATE NIL' : `SAVEDATE "${formatImapDateTime(d.getTime(), -d.getTimezoneOffset())}"`;
        }
        case 'RFC822.SIZE':
          return `RFC822.SIZE ${m.virtualSize ?? rfc822SizeOf(await parsed())}`;
        case 'X-GUID':
          return `X-GUID ${m.guid}`;
        case 'X-MAILBOX':
          return `X-MAILBOX ${ctx.view.name}`;
        case 'ENVELOPE':
          return `ENVELOPE (${await cachedItem(ctx.view, m, 'ENVELOPE', async () => buildEnvelope(await header()))})`;
        case 'BODY':
          return `BODY (${await cachedItem(ctx.view, m, 'BODY', async () => bodyOf(await parsed()))})`;
        case 'BODYSTRUCTURE':
          return `BODYSTRUCTURE (${await cachedItem(ctx.view, m, 'BODYSTRUCTURE', async () => bodyStructureOf(await parsed()))})`;
        case 'RFC822': {
          const d = hideNuls(toCrlf((await parsed()).raw));
          ctx.stats.bodyCount++;
          ctx.stats.bodyBytes += d.length;
          return `RFC822 ${lit(d)}`;
        }
        case 'RFC822.HEADER': {
          const d = hideNuls(sectionBytes(await parsed(), { part: [], kind: 'HEADER', fields: undefined }));
          ctx.stats.hdrCount++;
          ctx.stats.hdrBytes += d.length;
          return `RFC822.HEADER ${lit(d)}`;
        }
        case 'RFC822.TEXT': {
          const d = hideNuls(sectionBytes(await parsed(), { part: [], kind: 'TEXT', fields: undefined }));
          ctx.stats.bodyCount++;
          ctx.stats.bodyBytes += d.length;
          return `RFC822.TEXT ${lit(d)}`;
        }
        default:
          throw new ImapError('BAD', `Unknown parameter: ${a.name}`);
      }
    case 'body': {
      const d = applyPartial(hideNuls(sectionBytes(await parsed(), a.section)), a.partial);
      if (a.section.kind.startsWith('HEADER') || a.section.kind === 'MIME') {
        ctx.stats.hdrCount++;
        ctx.stats.hdrBytes += d.length;
      } else {
        ctx.stats.bodyCount++;
        ctx.stats.bodyBytes += d.length;
      }
      return `BODY[${formatSection(a.section)}]${partialSuffix(a.partial)} ${lit(d)}`;
    }
    case 'binary': {
      const r = binaryPart(await parsed(), a.part);
      if (r === undefined) throw new ImapError('NO', 'Unknown Content-Transfer-Encoding.', { name: 'UNKNOWN-CTE' });
      const d = applyPartial(r.data, a.partial);
      ctx.stats.bodyCount++;
      ctx.stats.bodyBytes += d.length;
      return `BINARY[${a.part.join('.')}]${partialSuffix(a.partial)} ${lit(d, r.decoded || d.includes('\0'))}`;
    }
    case 'binary.size': {
      const r = binaryPart(await parsed(), a.part);
      if (r === undefined) throw new ImapError('NO', 'Unknown Content-Transfer-Encoding.', { name: 'UNKNOWN-CTE' });
      return `BINARY.SIZE[${a.part.join('.')}] ${r.data.length}`;
    }
  }
}

/** The response line(s) for one message. */
export async function renderFetch(ctx: RenderContext, m: MessageInfo, attrs: readonly FetchAttribute[], opts: { uid: boolean; flagsFirst: boolean }): Promise<ByteString> {
  let cache: ParsedMessage | undefined;
  const parsed = async () => (cache ??= parseMessage(await ctx.view.read(m.uid)));
  // ENVELOPE needs only the top-level header: from the message if it is parsed already, else through
  // the header cache SEARCH uses (a miss reads the first 16 KiB, not the whole file, and parses no
  // MIME structure; the fields are the same, parseHeader stops at the blank line either way).
  // The fields are not written to the content store for ENVELOPE, whose own record is a third of
  // their size: they are when SEARCH or SORT asks for them (Dovecot caches the hdr.* fields asked
  // for), so a listing's first read writes less (docs/performance.md, "Seventeenth session").
  const header = async (): Promise<FieldList> => cache?.root.header ?? await messageHeader(ctx.view, m, () => cache?.root.header.fields, false);
  const order: FetchAttribute[] = [];
  const has = (name: string) => order.some((x) => x.type === 'simple' && x.name === name);
  if (opts.uid) order.push({ type: 'simple', name: 'UID' });
  if (opts.flagsFirst) order.push({ type: 'simple', name: 'FLAGS' });
  for (const a of attrs) if (isCheap(a) && !(a.type === 'simple' && has(a.name))) order.push(a);
  for (const a of attrs) if (!isCheap(a)) order.push(a);
  const items: string[] = [];
  for (const a of order) items.push(await one(ctx, m, a, parsed, header));
  return `* ${m.seq} FETCH (${items.join(' ')})\r\n`;
}
