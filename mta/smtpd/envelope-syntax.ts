/*
 * MAIL FROM / RCPT TO / VRFY argument parsing as Postfix 3.7 smtpd does it (smtpd.c mail_cmd,
 * rcpt_cmd, extract_addr), verified against a real 3.7.11:
 *  - `MAIL FROM:<a@b>`, `MAIL FROM: <a@b>` and `MAIL FROM:a@b` are all accepted (strict_rfc821_envelopes = no);
 *  - `<>` is the null sender (refused as a recipient); an RFC 5321 source route `<@x,@y:u@d>` is stripped;
 *  - spaces outside quotes, unbalanced `<`/quotes, several addresses → "Illegal address syntax";
 *  - parameters: MAIL takes SIZE, BODY=7BIT|8BITMIME, SMTPUTF8, RET, ENVID, AUTH; RCPT takes NOTIFY,
 *    ORCPT; anything else is `555 5.5.4 Unsupported option: X`; each has Postfix's own syntax reply.
 * Distrusts everything the client sends; returns typed results or throws SmtpError. Pure.
 */
import { SmtpError, type SmtpReply } from '../../shared/proto/smtp-reply.js';
import type { DsnNotify, DsnRet } from '../queue/types.js';
import type { BodyType } from '../cleanup/api.js';
import { R } from './replies.js';

/** Splits a command argument string into words; `<…>` and `"…"` keep their spaces. */
export function tokenize(args: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inQuote = false;
  let angle = 0;
  for (let i = 0; i < args.length; i++) {
    const c = args[i]!;
    if (inQuote) {
      cur += c;
      if (c === '\\' && i + 1 < args.length) cur += args[++i]!;
      else if (c === '"') inQuote = false;
      continue;
    }
    if (c === '"') inQuote = true;
    else if (c === '<') angle++;
    else if (c === '>' && angle > 0) angle--;
    if ((c === ' ' || c === '\t') && angle === 0) {
      if (cur !== '') out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
    // "FROM:<x>" is two words for Postfix: the keyword and the address.
    if (c === ':' && angle === 0 && out.length === 0 && /^(from|to):$/i.test(cur)) {
      out.push(cur);
      cur = '';
    }
  }
  if (cur !== '') out.push(cur);
  return out;
}

const ATOM = /^[^\s"()<>@,;:\\[\]]+$/;

/** Checks one address as extract_addr would; returns it without brackets and source route, or undefined. */
export function extractAddress(token: string): string | undefined {
  let s = token;
  if (s.startsWith('<')) {
    if (!s.endsWith('>') || s.length < 2) return undefined;
    s = s.slice(1, -1);
  } else if (s.includes('<') || s.includes('>')) {
    return undefined;
  }
  if (s.includes('<') || s.includes('>')) return undefined;
  // RFC 5321 source route: @a,@b:local@domain
  const route = /^@[^:]*:(.*)$/.exec(s);
  if (route) s = route[1]!;
  if (s === '') return '';
  // local part: quoted string or dot-separated atoms; domain: atoms or a [literal].
  let i = 0;
  let local = '';
  if (s.startsWith('"')) {
    let j = 1;
    for (; j < s.length; j++) {
      if (s[j] === '\\') j++;
      else if (s[j] === '"') break;
    }
    if (j >= s.length) return undefined;
    local = s.slice(0, j + 1);
    i = j + 1;
  } else {
    const at = s.lastIndexOf('@');
    local = at < 0 ? s : s.slice(0, at);
    i = local.length;
    if (!local.split('.').every((a) => ATOM.test(a) || a === '')) return undefined;
  }
  const rest = s.slice(i);
  if (rest === '') return local;
  if (!rest.startsWith('@')) return undefined;
  const domain = rest.slice(1);
  if (domain === '') return undefined;
  if (domain.startsWith('[')) {
    if (!/^\[[^\s[\]\\]*\]$/.test(domain)) return undefined;
  } else if (!domain.split('.').every((a) => ATOM.test(a))) {
    return undefined;
  }
  return `${local}@${domain}`;
}

export interface MailArgs {
  sender: string;
  size?: number;
  body?: BodyType;
  smtputf8: boolean;
  ret?: DsnRet;
  envid?: string;
  auth?: string;
}

export interface RcptArgs {
  address: string;
  notify?: DsnNotify[];
  orcpt?: string;
}

/** A syntax failure: the reply and, where Postfix logs one, the warning text. */
export class EnvelopeSyntaxError extends SmtpError {
  constructor(reply: SmtpReply, readonly warning?: string) {
    super(reply);
  }
}

const fail = (r: SmtpReply, warning?: string): never => {
  throw new EnvelopeSyntaxError(r, warning);
};

/** RFC 3461 xtext: `+XX` hex escapes, printable ASCII otherwise. */
export function xtextDecode(s: string): string | undefined {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 33 || c > 126) return undefined;
    if (s[i] === '+') {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) return undefined;
      out += String.fromCharCode(Number.parseInt(hex, 16));
      i += 2;
    } else if (s[i] === '=') {
      return undefined;
    } else {
      out += s[i];
    }
  }
  return out;
}

function keywordAndAddress(args: string, keyword: 'from:' | 'to:', syntax: SmtpReply): { addr: string; params: string[] } {
  const words = tokenize(args);
  if (words.length < 2 || words[0]!.toLowerCase() !== keyword) fail(syntax);
  return { addr: words[1]!, params: words.slice(2) };
}

/** Parses `MAIL` arguments (`FROM:<addr> [params]`). */
export function parseMailArgs(args: string, opts: { smtputf8Enable: boolean }): MailArgs {
  const { addr, params } = keywordAndAddress(args, 'from:', R.mailSyntax);
  const sender = extractAddress(addr);
  if (sender === undefined) fail(R.badSender, addr);
  const out: MailArgs = { sender: sender!, smtputf8: false };
  for (const p of params) {
    const up = p.toUpperCase();
    if (up === 'BODY=8BITMIME') out.body = '8BITMIME';
    else if (up === 'BODY=7BIT') out.body = '7BIT';
    else if (up.startsWith('SIZE=')) {
      const v = p.slice(5);
      if (!/^\d+$/.test(v)) fail(R.badSizeSyntax);
      out.size = Number(v);
    } else if (up.startsWith('AUTH=')) {
      const v = xtextDecode(p.slice(5));
      if (v === undefined) fail(R.unsupportedOption(p));
      out.auth = v;
    } else if (up === 'SMTPUTF8' && opts.smtputf8Enable) out.smtputf8 = true;
    else if (up.startsWith('RET=')) {
      const v = up.slice(4);
      if (out.ret !== undefined || (v !== 'FULL' && v !== 'HDRS')) fail(R.badRetSyntax);
      out.ret = v as DsnRet;
    } else if (up.startsWith('ENVID=')) {
      const v = xtextDecode(p.slice(6));
      if (out.envid !== undefined || v === undefined || v === '') fail(R.badEnvidSyntax);
      out.envid = v;
    } else fail(R.unsupportedOption(p));
  }
  return out;
}

const NOTIFY_WORDS = ['NEVER', 'SUCCESS', 'FAILURE', 'DELAY'];

/** Parses `RCPT` arguments (`TO:<addr> [params]`). */
export function parseRcptArgs(args: string): RcptArgs {
  const { addr, params } = keywordAndAddress(args, 'to:', R.rcptSyntax);
  const address = extractAddress(addr);
  if (address === undefined || address === '') fail(R.badRecipient, addr);
  const out: RcptArgs = { address: address! };
  for (const p of params) {
    const up = p.toUpperCase();
    if (up.startsWith('NOTIFY=')) {
      const words = up.slice(7).split(',');
      const bad = words.find((w) => !NOTIFY_WORDS.includes(w));
      if (out.notify !== undefined || bad !== undefined || (words.includes('NEVER') && words.length > 1)) {
        fail(R.badNotifySyntax, bad !== undefined ? `unknown DSN NOTIFY command value "${bad}" in "${p.slice(7)}"` : undefined);
      }
      out.notify = words as DsnNotify[];
    } else if (up.startsWith('ORCPT=')) {
      const v = p.slice(6);
      const semi = v.indexOf(';');
      const decoded = semi > 0 ? xtextDecode(v.slice(semi + 1)) : undefined;
      if (out.orcpt !== undefined || semi <= 0 || !/^[A-Za-z0-9-]+$/.test(v.slice(0, semi)) || decoded === undefined || decoded === '') {
        fail(R.badOrcptSyntax);
      }
      out.orcpt = v;
    } else fail(R.unsupportedOption(p));
  }
  return out;
}

/** VRFY's argument (all words joined, as Postfix collapses them): the address or undefined. */
export function parseVrfyArg(args: string): string | undefined {
  const a = extractAddress(args.trim());
  return a === '' ? undefined : a;
}
