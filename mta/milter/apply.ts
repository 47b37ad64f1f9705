/*
 * Applies a milter's end-of-message modifications to a message held in memory (pure), with the
 * semantics of Postfix 3.7's cleanup_milter.c (which edits the queue file in place):
 *
 * - ADDHEADER appends after the last header (after earlier added ones).
 * - INSHEADER index i (0-based from the milter) inserts before header i+1 counted over ALL headers
 *   including the MTA's own Received: (index 0 puts it above our Received:); past the end it appends.
 * - CHGHEADER name, index i (1-based; 0 is taken as 1, Sendmail compatibility) counts only headers
 *   of that name (case-insensitive), and never the message's first header, the MTA's own Received:
 *   that milters were not shown (skip_headers = 1). A non-empty value replaces the whole (possibly
 *   folded) header in place, or appends when there is no such instance; an empty value deletes it,
 *   or does nothing. Once a milter inserts above our Received:, that header becomes ordinary: the
 *   skip is positional, exactly as Postfix's.
 * - Header text is `name:` + (one space unless SMFIP_HDR_LEADSPC was negotiated) + value; CRLF in a
 *   value becomes LF, the way folded fields are held here.
 * - REPLBODY chunks together replace the body: split at LF, one CR before LF dropped, a last line
 *   without LF kept as a line, stored with CRLF line ends.
 * - CHGFROM replaces the sender (ESMTP arguments ignored with a warning, as Postfix does).
 * - ADDRCPT/ADDRCPT_PAR add a recipient (NOTIFY= and ORCPT= honoured, other arguments ignored with a
 *   warning; a null address ignored); DELRCPT removes every recipient whose original address (the
 *   one the milter saw, before cleanup's rewriting) equals the given one.
 * Addresses arrive in external form (`<user@dom>`, quoted local parts) and are internalized.
 *
 * Distrusts the milter's values only as far as Postfix does: names are not validated here beyond
 * non-empty (the client refuses empty ones), so header_checks-like screening stays the caller's.
 */
import type { MilterModification } from './codec.js';

export interface ApplyHeader {
  readonly name: string;
  /** The whole field, `Name: value`, folded lines joined with LF, no final line end. */
  readonly raw: Buffer;
}

export interface ApplyRecipient {
  /** Address as the queue holds it (after rewriting). */
  readonly address: string;
  /** The address as received (Postfix's original recipient); DELRCPT matches this one. */
  readonly original?: string;
  readonly orcpt?: string;
  readonly notify?: readonly string[];
  /** Added by a milter. */
  readonly fromMilter?: boolean;
}

export interface ApplyMessage<H extends ApplyHeader = ApplyHeader, P extends ApplyRecipient = ApplyRecipient> {
  readonly sender: string;
  readonly recipients: readonly P[];
  /** Every header, the MTA's own Received: first. */
  readonly headers: readonly H[];
  /** Body with CRLF line ends. */
  readonly body: Buffer;
}

export interface ApplyOptions {
  /** SMFIP_HDR_LEADSPC was negotiated: the value carries its own leading space. */
  leadingSpace?: boolean;
  /** Headers milters were not shown at the top (Postfix: 1, its own Received:). */
  hiddenHeaders?: number;
}

export interface ApplyResult {
  sender: string;
  recipients: ApplyRecipient[];
  headers: ApplyHeader[];
  body: Buffer;
  bodyReplaced: boolean;
  /** Postfix's warnings for ignored parts (`ignoring ESMTP argument from MILTER …`). */
  warnings: string[];
}

export function applyModifications(msg: ApplyMessage, mods: readonly MilterModification[], o: ApplyOptions = {}): ApplyResult {
  const space = o.leadingSpace ? '' : ' ';
  const hidden = o.hiddenHeaders ?? 1;
  const headers: ApplyHeader[] = [...msg.headers];
  let recipients: ApplyRecipient[] = [...msg.recipients];
  let sender = msg.sender;
  const warnings: string[] = [];
  const bodyChunks: Buffer[] = [];
  let bodyReplaced = false;

  const make = (name: string, value: Buffer): ApplyHeader => ({
    name,
    raw: Buffer.concat([Buffer.from(`${name}:${space}`, 'latin1'), crlfToLf(value)]),
  });

  for (const m of mods) {
    switch (m.kind) {
      case 'addheader':
        headers.push(make(m.name, m.value));
        break;
      case 'insheader': {
        const at = m.index + 1; // 1-based over all headers
        if (at > headers.length) headers.push(make(m.name, m.value));
        else headers.splice(at - 1, 0, make(m.name, m.value));
        break;
      }
      case 'chgheader': {
        const pos = findHeader(headers, m.name, m.index === 0 ? 1 : m.index, hidden);
        if (m.value.length === 0) {
          if (pos >= 0) headers.splice(pos, 1);
        } else if (pos >= 0) {
          headers[pos] = make(m.name, m.value);
        } else {
          headers.push(make(m.name, m.value));
        }
        break;
      }
      case 'replbody':
        bodyChunks.push(m.chunk);
        bodyReplaced = true;
        break;
      case 'chgfrom':
        if (m.args !== '') warnings.push(`cleanup_chg_from: ignoring ESMTP arguments "${m.args.slice(0, 100)}"`);
        sender = internalize(m.sender);
        break;
      case 'addrcpt':
      case 'addrcpt_par': {
        const r = addRecipient(m.rcpt, m.kind === 'addrcpt_par' ? m.args : '', warnings);
        if (r) recipients.push(r);
        break;
      }
      case 'delrcpt': {
        const addr = internalize(m.rcpt);
        recipients = recipients.filter((r) => (r.original ?? r.address) !== addr);
        break;
      }
    }
  }
  return { sender, recipients, headers, body: bodyReplaced ? replacementBody(Buffer.concat(bodyChunks)) : msg.body, bodyReplaced, warnings };
}

/** Index of the n-th (1-based) header named `name`, not counting the first `skip` headers; -1 if none. */
function findHeader(headers: readonly ApplyHeader[], name: string, n: number, skip: number): number {
  const want = name.toLowerCase();
  for (let i = skip; i < headers.length; i++) {
    if (headers[i]!.name.toLowerCase() === want && --n === 0) return i;
  }
  return -1;
}

function crlfToLf(b: Buffer): Buffer {
  if (!b.includes(0x0d)) return b;
  return Buffer.from(b.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
}

/** REPLBODY content (CRLF or LF lines, last line possibly unterminated) → stored body with CRLF. */
export function replacementBody(data: Buffer): Buffer {
  if (data.length === 0) return data;
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 0x0a) {
      const end = i > start && data[i - 1] === 0x0d ? i - 1 : i;
      lines.push(data.subarray(start, end));
      start = i + 1;
    }
  }
  if (start < data.length) lines.push(data.subarray(start));
  const crlf = Buffer.from('\r\n');
  return Buffer.concat(lines.flatMap((l) => [l, crlf]));
}

/**
 * External → internal address form (Postfix tok822_internalize of the first address): surrounding
 * `<>` removed, a quoted local part unquoted (`"a b"@x` → `a b@x`).
 */
export function internalize(ext: string): string {
  let a = ext.trim();
  const lt = a.indexOf('<');
  const gt = a.lastIndexOf('>');
  if (lt >= 0 && gt > lt) a = a.slice(lt + 1, gt);
  a = a.trim();
  // Source route (@a,@b:user@dom) is dropped, as tok822 does.
  if (a.startsWith('@')) {
    const colon = a.indexOf(':');
    if (colon >= 0) a = a.slice(colon + 1);
  }
  const m = /^"((?:[^"\\]|\\.)*)"(@.*)?$/s.exec(a);
  if (m) a = m[1]!.replace(/\\(.)/gs, '$1') + (m[2] ?? '');
  return a;
}

const NOTIFY_WORDS = new Set(['NEVER', 'SUCCESS', 'FAILURE', 'DELAY']);

function addRecipient(ext: string, args: string, warnings: string[]): ApplyRecipient | undefined {
  let notify: string[] | undefined;
  let orcpt: string | undefined;
  for (const arg of args.split(' ').filter((s) => s !== '')) {
    const upper = arg.toUpperCase();
    if (upper.startsWith('NOTIFY=')) {
      const words = arg.slice(7).toUpperCase().split(',');
      const ok = words.length > 0 && words.every((w) => NOTIFY_WORDS.has(w)) && (!words.includes('NEVER') || words.length === 1);
      if (notify || !ok) warnings.push(`Bad NOTIFY parameter from MILTER: "${arg.slice(0, 100)}"`);
      else notify = words;
    } else if (upper.startsWith('ORCPT=')) {
      const v = arg.slice(6);
      const semi = v.indexOf(';');
      const text = semi > 0 ? xtextDecode(v.slice(semi + 1)) : undefined;
      if (orcpt !== undefined || text === undefined) warnings.push(`Bad ORCPT parameter from MILTER: "${arg.slice(0, 100)}"`);
      else orcpt = `${v.slice(0, semi)};${text}`;
    } else {
      warnings.push(`ignoring ESMTP argument from MILTER: "${arg.slice(0, 100)}"`);
    }
  }
  const address = internalize(ext);
  if (address === '') {
    warnings.push('ignoring attempt from Milter to add null recipient');
    return undefined;
  }
  return { address, original: address, fromMilter: true, ...(orcpt !== undefined ? { orcpt } : {}), ...(notify ? { notify } : {}) };
}

/** RFC 3461 xtext decoding; undefined when malformed. */
function xtextDecode(s: string): string | undefined {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '+') {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) return undefined;
      out += String.fromCharCode(parseInt(hex, 16));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}
