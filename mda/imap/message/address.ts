/*
 * RFC 5322 address lists parsed for IMAP ENVELOPE the way Dovecot 2.3's message-address.c does with
 * "fill missing" on: display names are phrases with words joined by one space (quotes removed,
 * encoded words left encoded); `addr (Comment)` uses the comment as the name; routes `<@a,@b:x@y>`
 * are kept without the leading `@`; groups become (NIL NIL "name" NIL) ... (NIL NIL NIL NIL); a
 * missing local part or domain becomes MISSING_MAILBOX / MISSING_DOMAIN, an unclosed angle address
 * has the domain SYNTAX_ERROR, several words without an address are a name with both missing.
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
const SYNTAX_ERROR = 'SYNTAX_ERROR';

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
function readPhrase(lx: Rfc822Lexer): { text: string; words: number; comment: string | undefined } {
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
  return { text: words.join(' '), words: words.length, comment };
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
  // Several words and no address (`Reply-To: Ada Quill`): Dovecot keeps them as the display name
  // of an address with MISSING_MAILBOX and MISSING_DOMAIN (observed on 2.3.19).
  if (phrase.words > 1 && (c === ',' || c === '' || (inGroup && c === ';'))) {
    out.push({ name: phrase.text, route: null, mailbox: MISSING_MAILBOX, domain: MISSING_DOMAIN });
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

/**
 * The local part as Dovecot 2.3 reports it: quoted strings lose their quotes and backslash escapes
 * (observed: `"first last"@x` gives "first last", `""@x` gives ""), dot-atoms kept as written.
 * `present` is false when there was no local part at all (MISSING_MAILBOX).
 */
function parseLocalPart(lx: Rfc822Lexer): { text: string; present: boolean } {
  let out = '';
  let present = false;
  for (;;) {
    lx.skipLwsp();
    const c = lx.peek();
    if (c === '"') {
      // An unclosed quote is no local part at all (Dovecot: MISSING_MAILBOX).
      const q = lx.readQuoted();
      if (q === undefined) break;
      out += q;
      present = true;
    } else {
      const a = lx.readAtom();
      if (a === '') break;
      out += a;
      present = true;
    }
    lx.skipLwsp();
    if (lx.peek() !== '.') break;
    lx.pos++;
    out += '.';
  }
  return { text: out, present: present || out !== '' };
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
  return { mailbox: !local.present ? MISSING_MAILBOX : local.text, domain: domain === '' ? MISSING_DOMAIN : domain };
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
  // `Name <a@b` without the closing bracket: Dovecot keeps the mailbox and reports the domain as
  // SYNTAX_ERROR (observed on 2.3.19).
  if (lx.peek() !== '>') return { route, mailbox: spec.mailbox, domain: SYNTAX_ERROR };
  lx.pos++;
  return { route, mailbox: spec.mailbox, domain: spec.domain };
}
