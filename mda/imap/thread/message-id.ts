/*
 * Message-IDs out of Message-ID / References / In-Reply-To values as Dovecot 2.3's
 * lib-mail/message-id.c finds them: skip to the next '<'; an id without quotes, comments or
 * brackets is taken up to '>' with whitespace removed and must contain '@'; otherwise the slow
 * path reads `local@domain>` with the local part as a quoted string (quotes dropped) or dot-atom
 * and comments/folding skipped; anything that fails is skipped and the search goes on.
 * Pure; distrusts the header text (never throws).
 */

import { atextEnd, skipCfws } from '../message/rfc822-tokens.js';

class Cursor {
  constructor(readonly s: string, public pos: number) {}
  skipCfws(): void {
    this.pos = skipCfws(this.s, this.pos);
  }
  dotAtom(): string | undefined {
    let out = '';
    for (;;) {
      const start = this.pos;
      this.pos = atextEnd(this.s, this.pos);
      if (this.pos === start) return undefined;
      out += this.s.slice(start, this.pos);
      this.skipCfws();
      if (this.s[this.pos] !== '.') return out;
      this.pos++;
      out += '.';
      this.skipCfws();
    }
  }
  quoted(): string | undefined {
    let out = '';
    this.pos++;
    while (this.pos < this.s.length) {
      const c = this.s[this.pos++]!;
      if (c === '"') {
        this.skipCfws();
        return out;
      }
      if (c === '\\' && this.pos < this.s.length) out += this.s[this.pos++];
      else if (c !== '\r' && c !== '\n') out += c;
    }
    return undefined;
  }
}

function slowPath(s: string, pos: number): { id: string; end: number } | undefined {
  const c = new Cursor(s, pos);
  c.skipCfws();
  const left = s[c.pos] === '"' ? c.quoted() : c.dotAtom();
  if (left === undefined || s[c.pos] !== '@') return undefined;
  c.pos++;
  c.skipCfws();
  const right = c.dotAtom();
  if (right === undefined || s[c.pos] !== '>') return undefined;
  return { id: `${left}@${right}`, end: c.pos + 1 };
}

/** Every valid message-id in the value, in order. */
export function messageIds(value: string | undefined): string[] {
  const out: string[] = [];
  if (value === undefined) return out;
  let pos = 0;
  for (;;) {
    const lt = value.indexOf('<', pos);
    if (lt < 0) return out;
    const start = lt + 1;
    let p = start;
    let at = false;
    let stop: string | undefined;
    for (; p < value.length; p++) {
      const ch = value[p]!;
      if (ch === '@') at = true;
      if (ch === '>' || ch === '"' || ch === '(' || ch === '[') {
        stop = ch;
        break;
      }
    }
    if (stop === undefined) return out;
    if (stop === '>') {
      pos = p + 1;
      if (at) out.push(value.slice(start, p).replace(/[ \t\r\n]/g, ''));
      continue;
    }
    const slow = slowPath(value, start);
    if (slow !== undefined) {
      out.push(slow.id);
      pos = slow.end;
    } else pos = start;
  }
}

/** The first valid message-id, or undefined. */
export function firstMessageId(value: string | undefined): string | undefined {
  return messageIds(value)[0];
}
