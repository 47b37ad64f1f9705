/*
 * RFC 5322 address lists parsed for IMAP ENVELOPE the way Dovecot 2.3's message-address.c does with
 * "fill missing" on: display names are phrases with words joined by one space (quotes removed,
 * encoded words left encoded); `addr (Comment)` uses the comment as the name; routes `<@a,@b:x@y>`
 * are kept without the leading `@`; groups become (NIL NIL "name" NIL) ... (NIL NIL NIL NIL); a
 * missing local part or domain becomes MISSING_MAILBOX / MISSING_DOMAIN.
 * Distrusts: any syntax; it never throws and always makes progress.
 */
import { Rfc822Lexer } from './rfc822-tokens.js';

export interface EnvelopeAddress {
  readonly name: string | null;
  readonly route: string | null;
  readonly mailbox: string | null;
  readonly domain: string | null;
}

const MISSING_MAILBOX = 'MISSING_MAILBOX';
const MISSING_DOMAIN = 'MISSING_DOMAIN';

export function parseAddressList(value: string): EnvelopeAddress[] {
  const lx = new Rfc822Lexer(value);
  const out: EnvelopeAddress[] = [];
  let guard = 0;
  while (guard++ < 100000) {
    lx.skipLwsp();
    if (lx.done) break;
    if (lx.peek() === ',') {
      lx.pos++;
      continue;
    }
    const before = lx.pos;
    parseAddress(lx, out, false);
    if (lx.pos === before) lx.pos++;
  }
  return out;
}

/** Reads a phrase (words, quoted strings, dots); stops before specials. */
function readPhrase(lx: Rfc822Lexer): { text: string; comment: string | undefined } {
  const words: string[] = [];
  let comment: string | undefined;
  for (;;) {
    const save = lx.pos;
    while (!lx.done) {
      const c = lx.peek();
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n') lx.pos++;
      else if (c === '(') {
        const t = lx.readComment();
        if (t === undefined) {
          lx.pos = lx.s.length;
          break;
        }
        comment = t;
      } else break;
    }
    const c = lx.peek();
    if (c === '"') {
      const q = lx.readQuoted();
      words.push(q ?? '');
    } else if (c === '.') {
      lx.pos++;
      if (words.length > 0) words[words.length - 1] += '.';
      else words.push('.');
      continue;
    } else {
      const a = lx.readAtom();
      if (a === '') {
        if (lx.pos === save) break;
        break;
      }
      words.push(a);
    }
  }
  return { text: words.join(' '), comment };
}

function parseAddress(lx: Rfc822Lexer, out: EnvelopeAddress[], inGroup: boolean): void {
  const start = lx.pos;
  const phrase = readPhrase(lx);
  lx.skipLwsp();
  const c = lx.peek();
  if (c === ':' && !inGroup) {
    lx.pos++;
    out.push({ name: null, route: null, mailbox: phrase.text, domain: null });
    for (let guard = 0; guard < 100000; guard++) {
      lx.skipLwsp();
      if (lx.done) break;
      const d = lx.peek();
      if (d === ';') {
        lx.pos++;
        break;
      }
      if (d === ',') {
        lx.pos++;
        continue;
      }
      const before = lx.pos;
      parseAddress(lx, out, true);
      if (lx.pos === before) lx.pos++;
    }
    out.push({ name: null, route: null, mailbox: null, domain: null });
    return;
  }
  if (c === '<') {
    lx.pos++;
    const addr = parseAngle(lx);
    out.push({ ...addr, name: phrase.text === '' ? null : phrase.text });
    return;
  }
  // addr-spec: re-read from the start as local-part@domain
  lx.pos = start;
  lx.lastComment = undefined;
  const spec = parseAddrSpec(lx);
  lx.skipLwsp();
  const name = lx.lastComment ?? null;
  out.push({ name, route: null, mailbox: spec.mailbox, domain: spec.domain });
  skipToComma(lx, inGroup);
}

function skipToComma(lx: Rfc822Lexer, inGroup: boolean): void {
  while (!lx.done) {
    lx.skipLwsp();
    const c = lx.peek();
    if (c === ',' || (inGroup && c === ';') || c === '') return;
    if (c === '"') lx.readQuoted();
    else lx.pos++;
  }
}

function parseLocalPart(lx: Rfc822Lexer): string {
  let out = '';
  for (;;) {
    lx.skipLwsp();
    const c = lx.peek();
    if (c === '"') {
      const q = lx.readQuoted() ?? '';
      out += `"${q.replace(/(["\\])/g, '\\$1')}"`;
    } else {
      const a = lx.readAtom();
      if (a === '') break;
      out += a;
    }
    lx.skipLwsp();
    if (lx.peek() !== '.') break;
    lx.pos++;
    out += '.';
  }
  return out;
}

function parseDomain(lx: Rfc822Lexer): string {
  lx.skipLwsp();
  if (lx.peek() === '[') {
    const end = lx.s.indexOf(']', lx.pos);
    const stop = end < 0 ? lx.s.length : end + 1;
    const lit = lx.s.slice(lx.pos, stop);
    lx.pos = stop;
    return lit;
  }
  let out = '';
  for (;;) {
    lx.skipLwsp();
    const a = lx.readAtom();
    if (a === '') break;
    out += a;
    lx.skipLwsp();
    if (lx.peek() !== '.') break;
    lx.pos++;
    out += '.';
  }
  return out;
}

function parseAddrSpec(lx: Rfc822Lexer): { mailbox: string; domain: string } {
  const local = parseLocalPart(lx);
  lx.skipLwsp();
  let domain = '';
  if (lx.peek() === '@') {
    lx.pos++;
    domain = parseDomain(lx);
  }
  return { mailbox: local === '' ? MISSING_MAILBOX : local, domain: domain === '' ? MISSING_DOMAIN : domain };
}

function parseAngle(lx: Rfc822Lexer): Omit<EnvelopeAddress, 'name'> {
  lx.skipLwsp();
  let route: string | null = null;
  if (lx.peek() === '@') {
    const parts: string[] = [];
    while (lx.peek() === '@') {
      lx.pos++;
      parts.push(`@${parseDomain(lx)}`);
      lx.skipLwsp();
      if (lx.peek() === ',') {
        lx.pos++;
        lx.skipLwsp();
      }
    }
    if (lx.peek() === ':') lx.pos++;
    route = parts.join(',');
  }
  const spec = parseAddrSpec(lx);
  lx.skipLwsp();
  while (!lx.done && lx.peek() !== '>') {
    if (lx.peek() === '"') lx.readQuoted();
    else lx.pos++;
  }
  if (lx.peek() === '>') lx.pos++;
  return { route, mailbox: spec.mailbox, domain: spec.domain };
}
