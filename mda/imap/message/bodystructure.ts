/*
 * BODYSTRUCTURE and BODY (RFC 3501 §7.4.2) written as Dovecot 2.3's imap-bodystructure.c does:
 *  - type/subtype/parameter names and values as strings (quoted or literal by imap-quote rules);
 *  - text parts get ("charset" "us-ascii") appended when no charset parameter was given;
 *  - sizes are "virtual" (every bare LF counted as CRLF), lines are LF counts of the body;
 *  - a multipart with no children is written with one empty text/plain part;
 *  - extension data: MD5, (disposition (params)), (languages), location for leaves;
 *    (params), disposition, language, location for multiparts; BODY omits all of it.
 */
import { formatNstringNoLf, formatString, type ByteString } from '../proto/formatter.js';
import type { MimeParam } from './content-fields.js';
import { buildEnvelope } from './envelope.js';
import type { MimePart } from './mime-structure.js';
import { bodyLines, virtualLength } from './sizes.js';

const EMPTY_TEXT = '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0';

function params(list: readonly MimeParam[], defaultCharset: boolean): ByteString {
  if (!defaultCharset && list.length === 0) return 'NIL';
  const items: string[] = [];
  let seen = !defaultCharset;
  for (const p of list) {
    if (!seen && p.name.toLowerCase() === 'charset') seen = true;
    items.push(`${formatString(p.name)} ${formatString(p.value)}`);
  }
  if (!seen) items.push('"charset" "us-ascii"');
  return `(${items.join(' ')})`;
}

function disposition(p: MimePart): ByteString {
  if (p.info.disposition === undefined) return 'NIL';
  return `(${formatString(p.info.disposition)} ${params(p.info.dispositionParams, false)})`;
}

function language(p: MimePart): ByteString {
  const l = p.info.language;
  if (!l || l.length === 0) return 'NIL';
  return `(${l.map(formatString).join(' ')})`;
}

export function writeBodyStructure(msg: string, p: MimePart, extended: boolean): ByteString {
  if (p.kind === 'multipart') {
    let s = p.children.length === 0 ? `${EMPTY_TEXT}${extended ? ' NIL NIL NIL NIL' : ''})` : p.children.map((c) => `(${writeBodyStructure(msg, c, extended)})`).join('');
    s += ` ${formatString(p.info.subtype ?? 'x-unknown')}`;
    if (extended) s += ` ${params(p.info.params, false)} ${disposition(p)} ${language(p)} ${formatNstringNoLf(p.info.location)}`;
    return s;
  }
  const size = virtualLength(msg, p.bodyStart, p.bodyEnd);
  let s: string;
  let text = false;
  if (p.kind === 'message') {
    s = '"message" "rfc822"';
  } else if (p.info.type === undefined) {
    text = !p.info.messageRfc822;
    s = text ? '"text" "plain"' : '"message" "rfc822"';
  } else {
    text = p.info.type.toLowerCase() === 'text';
    s = `${formatString(p.info.type)} ${formatString(p.info.subtype ?? (text ? 'plain' : 'unknown'))}`;
  }
  s += ` ${params(p.info.params, text)}`;
  s += ` ${formatNstringNoLf(p.info.id)} ${formatNstringNoLf(p.info.description)} ${p.info.encoding === undefined ? '"7bit"' : formatString(p.info.encoding)} ${size}`;
  if (text) s += ` ${bodyLines(msg, p.bodyStart, p.bodyEnd)}`;
  else if (p.kind === 'message') {
    const child = p.children[0]!;
    s += ` (${buildEnvelope(child.header)}) (${writeBodyStructure(msg, child, extended)}) ${bodyLines(msg, p.bodyStart, p.bodyEnd)}`;
  }
  if (extended) s += ` ${formatNstringNoLf(p.info.md5)} ${disposition(p)} ${language(p)} ${formatNstringNoLf(p.info.location)}`;
  return s;
}
