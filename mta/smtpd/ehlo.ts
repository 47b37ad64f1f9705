/*
 * The EHLO reply as Postfix 3.7 builds it (smtpd.c ehlo_cmd; reference/postfix.md §7.1): the host
 * name, then PIPELINING, SIZE [n], VRFY, ETRN, STARTTLS, AUTH …, AUTH=… (broken_sasl_auth_clients),
 * ENHANCEDSTATUSCODES, 8BITMIME, DSN, SMTPUTF8, CHUNKING, in that order, minus the keywords named in
 * smtpd_discard_ehlo_keywords (matched case-insensitively on the keyword's first word). Pure.
 */
import { reply, type SmtpReply } from '../../shared/proto/smtp-reply.js';

export interface EhloFacts {
  myhostname: string;
  /** message_size_limit; 0 = no limit (`SIZE` without a number). */
  sizeLimit: number;
  disableVrfy: boolean;
  /** STARTTLS may be offered (TLS configured at may/encrypt, not yet active, not wrapper mode). */
  offerStarttls: boolean;
  /** SASL mechanisms to offer; undefined = AUTH not offered. */
  authMechanisms: string[] | undefined;
  brokenSaslAuthClients: boolean;
  smtputf8Enable: boolean;
  discard: readonly string[];
}

export function ehloKeywords(f: EhloFacts): string[] {
  const k: string[] = ['PIPELINING', f.sizeLimit > 0 ? `SIZE ${f.sizeLimit}` : 'SIZE'];
  if (!f.disableVrfy) k.push('VRFY');
  k.push('ETRN');
  if (f.offerStarttls) k.push('STARTTLS');
  if (f.authMechanisms !== undefined && f.authMechanisms.length > 0) {
    const mechs = f.authMechanisms.join(' ');
    k.push(`AUTH ${mechs}`);
    if (f.brokenSaslAuthClients) k.push(`AUTH=${mechs}`);
  }
  k.push('ENHANCEDSTATUSCODES', '8BITMIME', 'DSN');
  if (f.smtputf8Enable) k.push('SMTPUTF8');
  k.push('CHUNKING');
  const discard = new Set(f.discard.map((d) => d.toUpperCase()));
  return k.filter((kw) => !discard.has(kw.split(/[ =]/)[0]!.toUpperCase()));
}

/** `250-host` … `250 LAST` (no enhanced codes, as Postfix). */
export function ehloReply(f: EhloFacts): SmtpReply {
  return reply(250, undefined, [f.myhostname, ...ehloKeywords(f)].join('\n'));
}
