/*
 * What SORT compares for one message (RFC 5256 §3, RFC 5957), as Dovecot 2.3's index-sort.c gets
 * it:
 *  - ARRIVAL: INTERNALDATE in whole seconds;
 *  - DATE: the Date: header (sent-date.ts), else the arrival time;
 *  - SIZE: RFC822.SIZE (the CRLF size);
 *  - FROM/TO/CC: the local part of the first address of the first such header, after RFC 2047
 *    decoding of the whole header, casemapped ("" when missing);
 *  - DISPLAYFROM/DISPLAYTO: the decoded display name of the first address, else mailbox@domain
 *    (or the mailbox alone), casemapped;
 *  - SUBJECT: the base subject (base-subject.ts).
 * Pure: works on an already parsed header block.
 */
import type { FieldList } from '../message/header.js';
import { firstField } from '../message/header.js';
import { parseAddressList } from '../message/address.js';
import { decodeHeaderValue } from '../search/decode-text.js';
import { baseSubject } from './base-subject.js';
import { casemap } from './casemap.js';
import { parseSentDate } from './sent-date.js';
import type { SortKeyName } from './sort-program.js';

export type SortValue = number | string;

interface FirstAddress {
  /** Display name as UTF-8 bytes (latin1 string). */
  readonly name: string | null;
  readonly mailbox: string | null;
  readonly domain: string | null;
}

const utf8 = (s: string | null): string | null => (s === null ? null : Buffer.from(s, 'latin1').toString('utf8'));

/** A quoted local part loses its quotes and escapes, as Dovecot's address parser returns it. */
function unquote(s: string | null): string | null {
  if (s === null || !s.startsWith('"') || !s.endsWith('"') || s.length < 2) return s;
  return s.slice(1, -1).replace(/\\(.)/g, '$1');
}

/** First address of the first such header, parsed after RFC 2047 decoding of the whole field. */
function firstAddress(h: FieldList, name: string): FirstAddress | undefined {
  const f = firstField(h, name);
  if (f === undefined) return undefined;
  // The address parser works on bytes: hand it the decoded text as UTF-8 bytes.
  const a = parseAddressList(Buffer.from(decodeHeaderValue(f.value), 'utf8').toString('latin1'))[0];
  if (a === undefined) return undefined;
  return { name: a.name, mailbox: unquote(utf8(a.mailbox)), domain: utf8(a.domain) };
}

/** The display text RFC 5957 sorts by. */
export function displayName(h: FieldList, name: string): string {
  const a = firstAddress(h, name);
  if (a === undefined) return '';
  if (a.name !== null) {
    // The name is still UTF-8 bytes; decoding it again also catches encoded words left in it.
    const n = decodeHeaderValue(a.name);
    if (n !== '') return n;
  }
  if (a.mailbox !== null && a.domain !== null) return `${a.mailbox}@${a.domain}`;
  return a.mailbox ?? '';
}

/** Sent date in seconds (Date: header), or undefined. */
export function sentDateOf(h: FieldList): number | undefined {
  const f = firstField(h, 'Date');
  return f === undefined ? undefined : parseSentDate(f.value);
}

export interface SortFacts {
  readonly header: FieldList;
  readonly arrival: number;
  readonly size: number;
}

export function sortValue(key: SortKeyName, m: SortFacts): SortValue {
  switch (key) {
    case 'ARRIVAL':
      return m.arrival;
    case 'DATE':
      return sentDateOf(m.header) || m.arrival;
    case 'SIZE':
      return m.size;
    case 'SUBJECT': {
      const f = firstField(m.header, 'Subject');
      return f === undefined ? '' : baseSubject(f.value).base;
    }
    case 'FROM':
    case 'TO':
    case 'CC':
      return casemap(firstAddress(m.header, key === 'FROM' ? 'From' : key === 'TO' ? 'To' : 'Cc')?.mailbox ?? '');
    case 'DISPLAYFROM':
      return casemap(displayName(m.header, 'From'));
    case 'DISPLAYTO':
      return casemap(displayName(m.header, 'To'));
  }
}
