/*
 * One parsed message: the entry point the FETCH command uses for ENVELOPE, BODYSTRUCTURE, BODY,
 * RFC822.SIZE and (via sections.ts) BODY[section] / BINARY[section]. Input is the raw maildir file
 * (LF or CRLF); every answer is in Dovecot 2.3's byte-exact form.
 */
import { fromBytes, type ByteString } from '../proto/formatter.js';
import { buildEnvelope } from './envelope.js';
import { parseMime, type MimePart } from './mime-structure.js';
import { writeBodyStructure } from './bodystructure.js';
import { virtualLength } from './sizes.js';

export interface ParsedMessage {
  /** The message as a byte string. */
  readonly raw: ByteString;
  readonly root: MimePart;
}

export function parseMessage(raw: Buffer | ByteString): ParsedMessage {
  const s = typeof raw === 'string' ? raw : fromBytes(raw);
  return { raw: s, root: parseMime(s) };
}

/** ENVELOPE value without the outer parentheses (as doveadm's imap.envelope shows it). */
export function envelopeOf(m: ParsedMessage): ByteString {
  return buildEnvelope(m.root.header);
}

/** BODYSTRUCTURE without the outer parentheses. */
export function bodyStructureOf(m: ParsedMessage): ByteString {
  return writeBodyStructure(m.raw, m.root, true);
}

/** BODY (non-extensible) without the outer parentheses. */
export function bodyOf(m: ParsedMessage): ByteString {
  return writeBodyStructure(m.raw, m.root, false);
}

/** RFC822.SIZE: the whole message with CRLF line ends. */
export function rfc822SizeOf(m: ParsedMessage): number {
  return virtualLength(m.raw, 0, m.raw.length);
}
