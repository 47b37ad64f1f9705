/*
 * The fields of `doveadm fetch` (doveadm-mail-fetch.c, Dovecot 2.3.19) and how each value is made:
 *  - user, mailbox, mailbox-guid, seq, uid, guid, flags (system flags, \Recent, then keywords),
 *    modseq, pop3.uidl (empty when the maildir has none);
 *  - hdr (the physical header including the blank line), body, text (the physical message),
 *    printed as streams (pager: `name:\n` then the bytes as they are);
 *  - hdr.<name> (the field's values, unfolded, `, `-joined when repeated), body.snippet;
 *  - size.physical, size.virtual; date.received (INTERNALDATE), date.saved (the same: a maildir
 *    keeps no separate save time unless the index has one), date.sent (Date: header) as
 *    `YYYY-MM-DD HH:MM:SS` local time, date.sent adding ` (+zzzz)`; the `.unixtime` variants;
 *  - imap.envelope, imap.bodystructure, imap.body from mda/imap/message/ (Dovecot's byte forms,
 *    without the outer parentheses).
 * Distrusts message content: parsed leniently by the IMAP message code.
 */
import type { MailboxView, MessageInfo } from '../../storage/api.js';
import { bodyOf, bodyStructureOf, envelopeOf, parseMessage, type ParsedMessage } from '../../imap/message/message.js';

export const FETCH_FIELD_NAMES = [
  'user', 'mailbox', 'mailbox-guid', 'seq', 'uid', 'guid', 'flags', 'modseq', 'hdr', 'body', 'body.preview', 'body.snippet',
  'text', 'text.utf8', 'size.physical', 'size.virtual', 'date.received', 'date.sent', 'date.saved', 'date.received.unixtime',
  'date.sent.unixtime', 'date.saved.unixtime', 'imap.envelope', 'imap.body', 'imap.bodystructure', 'pop3.uidl', 'pop3.order',
  'refcount', 'storageid',
] as const;

/** The fields we can produce (the rest of FETCH_FIELD_NAMES are accepted by name only in Dovecot's list). */
const SUPPORTED = new Set<string>(FETCH_FIELD_NAMES.filter((f) => !['body.preview', 'text.utf8', 'pop3.order', 'refcount', 'storageid'].includes(f)));

export const AVAILABLE_FIELDS_TEXT = `Available fetch fields: hdr.<name> body.<section> binary.<section> ${FETCH_FIELD_NAMES.join(' ')}`;

export function isFetchField(name: string): boolean {
  return SUPPORTED.has(name) || /^hdr\.[^\s]+$/.test(name);
}

/** Streamed fields print as `name:\n<bytes>` in the pager format. */
export function isStreamField(name: string): boolean {
  return name === 'hdr' || name === 'body' || name === 'text';
}

export interface FetchEnv {
  readonly user: string;
  readonly view: MailboxView;
  readonly mailboxGuid: string;
}

const SYSTEM_ORDER = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

export function flagsText(m: MessageInfo): string {
  const system = SYSTEM_ORDER.filter((f) => m.flags.includes(f));
  const keywords = m.flags.filter((f) => !f.startsWith('\\'));
  return [...system, ...(m.recent ? ['\\Recent'] : []), ...keywords].join(' ');
}

const p2 = (n: number): string => String(n).padStart(2, '0');

/** unixdate2str(): strftime("%Y-%m-%d %H:%M:%S", localtime()). */
export function unixdate2str(seconds: number): string {
  const d = new Date(seconds * 1000);
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const ZONES: Record<string, number> = { UT: 0, GMT: 0, Z: 0, EST: -300, EDT: -240, CST: -360, CDT: -300, MST: -420, MDT: -360, PST: -480, PDT: -420 };

/** An RFC 5322 Date: value as UNIX seconds and zone minutes; undefined if unparsable. */
export function parseRfc822Date(value: string): { t: number; tz: number } | undefined {
  const m = /(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{4}|[A-Za-z]+)?/.exec(value);
  if (!m) return undefined;
  const mon = MONTHS.indexOf(m[2]!.toLowerCase());
  if (mon < 0) return undefined;
  let year = Number(m[3]);
  if (m[3]!.length === 2) year += year < 70 ? 2000 : 1900;
  else if (m[3]!.length === 3) year += 1900;
  let tz = 0;
  const z = m[7];
  if (z !== undefined && /^[+-]\d{4}$/.test(z)) {
    tz = (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5))) * (z[0] === '-' ? -1 : 1);
  } else if (z !== undefined) tz = ZONES[z.toUpperCase()] ?? 0;
  const local = Date.UTC(year, mon, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)) / 1000;
  return { t: local - tz * 60, tz };
}

function zoneText(tz: number): string {
  const a = Math.abs(tz);
  return `${tz < 0 ? '-' : '+'}${p2(Math.floor(a / 60))}${p2(a % 60)}`;
}

/** Computes field values for one message; content is read and parsed once, only when needed. */
export class FetchMessage {
  private raw: Buffer | undefined;
  private parsed: ParsedMessage | undefined;
  private sizes: { physical: number; virtual: number } | undefined;

  constructor(private readonly env: FetchEnv, readonly m: MessageInfo) {}

  private async bytes(): Promise<Buffer> {
    return (this.raw ??= await this.env.view.read(this.m.uid));
  }

  private async message(): Promise<ParsedMessage> {
    return (this.parsed ??= parseMessage(await this.bytes()));
  }

  private async size(): Promise<{ physical: number; virtual: number }> {
    if (this.m.physicalSize !== undefined && this.m.virtualSize !== undefined) return { physical: this.m.physicalSize, virtual: this.m.virtualSize };
    return (this.sizes ??= await this.env.view.messageSizes(this.m.uid));
  }

  private async headerEnd(): Promise<number> {
    return (await this.message()).root.bodyStart;
  }

  private async sent(): Promise<{ t: number; tz: number }> {
    const h = (await this.message()).root.header.fields.find((f) => f.name.toLowerCase() === 'date');
    return (h === undefined ? undefined : parseRfc822Date(h.value)) ?? { t: 0, tz: 0 };
  }

  private async received(): Promise<number> {
    return Math.floor((await this.env.view.internalDate(this.m.uid)).getTime() / 1000);
  }

  async value(field: string): Promise<string | Buffer> {
    const m = this.m;
    switch (field) {
      case 'user': return this.env.user;
      case 'mailbox': return this.env.view.name;
      case 'mailbox-guid': return this.env.mailboxGuid;
      case 'seq': return String(m.seq);
      case 'uid': return String(m.uid);
      case 'guid': return m.guid;
      case 'flags': return flagsText(m);
      case 'modseq': return String(m.modseq);
      case 'pop3.uidl': return m.pop3Uidl ?? '';
      case 'hdr': return (await this.bytes()).subarray(0, await this.headerEnd());
      case 'body': return (await this.bytes()).subarray(await this.headerEnd());
      case 'text': return this.bytes();
      case 'size.physical': return String((await this.size()).physical);
      case 'size.virtual': return String((await this.size()).virtual);
      case 'date.received':
      case 'date.saved': return unixdate2str(await this.received());
      case 'date.received.unixtime':
      case 'date.saved.unixtime': return String(await this.received());
      case 'date.sent': {
        const s = await this.sent();
        return `${unixdate2str(s.t)} (${zoneText(s.tz)})`;
      }
      case 'date.sent.unixtime': return String((await this.sent()).t);
      case 'imap.envelope': return Buffer.from(envelopeOf(await this.message()), 'latin1');
      case 'imap.bodystructure': return Buffer.from(bodyStructureOf(await this.message()), 'latin1');
      case 'imap.body': return Buffer.from(bodyOf(await this.message()), 'latin1');
      case 'body.snippet': return this.snippet();
      default:
        if (field.startsWith('hdr.')) return this.headerField(field.slice(4));
        throw new Error(`unsupported fetch field ${field}`);
    }
  }

  private async headerField(name: string): Promise<Buffer> {
    const values = (await this.message()).root.header.fields
      .filter((f) => f.name.toLowerCase() === name.toLowerCase())
      .map((f) => f.value.replace(/\r?\n[ \t]*/g, ' ').trim());
    return Buffer.from(values.join(', '), 'latin1');
  }

  /** A short plain-text preview of the first text part (whitespace collapsed, 100 characters). */
  private async snippet(): Promise<string> {
    const msg = await this.message();
    let part = msg.root;
    while (part.kind !== 'leaf' && part.children.length > 0) part = part.children[0]!;
    const text = Buffer.from(msg.raw.slice(part.bodyStart, part.bodyEnd), 'latin1').toString('utf8');
    return text.replace(/\s+/g, ' ').trim().slice(0, 100);
  }
}
