/*
 * BODY[section] extraction (RFC 3501 §6.4.5) over the MIME tree of mime-structure.ts, with the
 * bytes IMAP sends: bare LF turned into CRLF, as Dovecot serves maildir files.
 *  - part numbers index a multipart's children; a non-multipart message has only part 1, its body;
 *    a message/rfc822 part's subparts are those of the message it holds;
 *  - `n` is the part's body; `n.MIME` its own header; `HEADER`, `TEXT`, `HEADER.FIELDS[.NOT]` apply
 *    to the top message or, after a part number, to the message a message/rfc822 part holds;
 *  - HEADER.FIELDS keeps the matching fields in message order and ends with the blank line;
 *  - a part that does not exist is empty (Dovecot answers `{0}`), never an error;
 *  - NUL bytes are sent as 0x80 (hideNuls), as Dovecot does outside BINARY.
 * Distrusts: part numbers beyond the tree (empty), header names (compared case-insensitively).
 */
import type { ByteString } from '../proto/formatter.js';
import type { SectionSpec } from '../proto/section.js';
import type { ParsedMessage } from './message.js';
import type { MimePart } from './mime-structure.js';
import { toCrlf } from './sizes.js';

/** The part a path names, or undefined. An empty path is the message itself. */
export function findPart(root: MimePart, path: readonly number[]): MimePart | undefined {
  let container: MimePart | undefined = root;
  let part: MimePart = root;
  for (const n of path) {
    if (container === undefined) return undefined;
    if (container.kind === 'multipart') {
      const child = container.children[n - 1];
      if (child === undefined) return undefined;
      part = child;
    } else {
      if (n !== 1) return undefined;
      part = container;
    }
    // Below a message/rfc822 part is the message it holds; below a multipart its children. A leaf
    // inside a multipart is its own part 1 again (Dovecot serves `1.1` of a text part), but the
    // single body of a non-multipart message has nothing below it.
    if (part.kind === 'message') container = part.children[0];
    else if (part.kind === 'multipart' || container !== part) container = part;
    else container = undefined;
  }
  return part;
}

function headerOf(msg: string, p: MimePart): string {
  return msg.slice(p.headerStart, p.bodyStart);
}

function fieldsOf(p: MimePart, names: readonly string[], not: boolean): string {
  const want = new Set(names.map((n) => n.toLowerCase()));
  let out = '';
  for (const f of p.header.fields) {
    if (want.has(f.name.toLowerCase()) !== not) out += f.raw;
  }
  // Dovecot ends HEADER.FIELDS with the blank line always, HEADER.FIELDS.NOT only when the header
  // had one (observed on a header-only message without the blank line).
  return not && !p.header.hasEnd ? out : `${out}\n`;
}

/** The section's bytes (CRLF line ends), without partial applied. */
export function sectionBytes(m: ParsedMessage, spec: SectionSpec): ByteString {
  const msg = m.raw;
  const part = findPart(m.root, spec.part);
  if (part === undefined) return '';
  let text: string;
  switch (spec.kind) {
    case '':
      text = spec.part.length === 0 ? msg : msg.slice(part.bodyStart, part.bodyEnd);
      break;
    case 'MIME':
      text = headerOf(msg, part);
      break;
    default: {
      const target = spec.part.length === 0 ? part : part.kind === 'message' ? part.children[0] : undefined;
      if (target === undefined) return '';
      if (spec.kind === 'HEADER') text = headerOf(msg, target);
      else if (spec.kind === 'TEXT') text = msg.slice(target.bodyStart, spec.part.length === 0 ? msg.length : target.bodyEnd);
      else text = fieldsOf(target, spec.fields ?? [], spec.kind === 'HEADER.FIELDS.NOT');
    }
  }
  return toCrlf(text);
}

/** Non-BINARY fetches show NUL bytes as 0x80, as Dovecot does (RFC 3501 forbids NUL in literals). */
export function hideNuls(data: ByteString): ByteString {
  return data.includes('\0') ? data.replace(/\0/g, '\x80') : data;
}

/** `<offset.length>` applied to section bytes. */
export function applyPartial(data: ByteString, partial: { offset: number; length: number | undefined } | undefined): ByteString {
  if (partial === undefined) return data;
  const start = Math.min(partial.offset, data.length);
  const end = partial.length === undefined ? data.length : Math.min(data.length, start + partial.length);
  return data.slice(start, end);
}
