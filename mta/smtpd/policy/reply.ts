/*
 * How smtpd_check.c turns a rejection into a reply: soft_bounce turns 5xx into 4xx, the enhanced
 * code's class digit follows the reply code, and smtpd_dsn_fix swaps address-status details to
 * the side being rejected (a sender gets X.1.7/X.1.8 for X.1.1/X.1.2, a recipient the reverse;
 * an unknown X.1.Y detail becomes X.1.0, as observed: `550 5.1.9` → `550 5.1.0`).
 * Also the `default_rbl_reply` template expansion ($name, ${name?text}, ${name:text}). Pure.
 */
import { reply, type SmtpReply } from '../../../shared/proto/smtp-reply.js';

export type ReplyClass = 'Client host' | 'Helo command' | 'Sender address' | 'Recipient address' | 'Data command' | 'End-of-data' | 'Etrn command';

export function fixDsn(dsn: string, code: number, cls: ReplyClass | undefined): string {
  const parts = dsn.split('.');
  const first = String(code)[0]!;
  let [, subject, detail] = parts;
  if (subject === '1') {
    if (cls === 'Sender address') {
      if (detail === '1' || detail === '3' || detail === '4' || detail === '6') detail = '7';
      else if (detail === '2') detail = '8';
    } else if (cls === 'Recipient address') {
      if (detail === '7') detail = '1';
      else if (detail === '8') detail = '2';
    }
    if (!['0', '1', '2', '3', '4', '5', '6', '7', '8', '10'].includes(detail ?? '')) detail = '0';
  }
  return `${first}.${subject ?? '0'}.${detail ?? '0'}`;
}

export function buildReply(code: number, dsn: string, text: string, cls: ReplyClass | undefined, softBounce: boolean): SmtpReply {
  let c = code;
  if (softBounce && c >= 500 && c < 600) c -= 100;
  return reply(c, fixDsn(dsn, c, cls), text);
}

/** Expands a reply template such as default_rbl_reply with the given variables. */
export function expandTemplate(template: string, vars: Readonly<Record<string, string>>): string {
  let out = '';
  for (let i = 0; i < template.length; ) {
    const ch = template[i]!;
    if (ch !== '$') {
      out += ch;
      i++;
      continue;
    }
    if (template[i + 1] === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (template[i + 1] === '{' || template[i + 1] === '(') {
      const close = template[i + 1] === '{' ? '}' : ')';
      let depth = 1;
      let j = i + 2;
      for (; j < template.length && depth > 0; j++) {
        if (template[j] === template[i + 1]) depth++;
        else if (template[j] === close) depth--;
      }
      const inner = template.slice(i + 2, j - 1);
      const m = /^([A-Za-z0-9_]+)([?:])([\s\S]*)$/.exec(inner);
      if (m) {
        const v = vars[m[1]!] ?? '';
        const cond = m[2] === '?' ? v !== '' : v === '';
        if (cond) out += expandTemplate(m[3]!, vars);
      } else out += vars[inner] ?? '';
      i = j;
      continue;
    }
    const m = /^[A-Za-z0-9_]+/.exec(template.slice(i + 1));
    if (m) {
      out += vars[m[0]] ?? '';
      i += 1 + m[0].length;
    } else {
      out += '$';
      i++;
    }
  }
  return out;
}
