/*
 * Postfix smtp(8)'s reason texts, in one place (they reach logs, mailq and DSNs, and log analysers
 * match them). `namaddr` is `host[addr]`. Observed/quoted forms:
 *   connect to mx.example.com[192.0.2.1]:25: Connection refused
 *   host mx.example.com[192.0.2.1] said: 550 5.1.1 <u@x>: … (in reply to RCPT TO command)
 *   host mx.example.com[192.0.2.1] refused to talk to me: 421 4.3.2 Service shutting down
 *   conversation with mx.example.com[192.0.2.1] timed out while receiving the initial server greeting
 *   lost connection with mx.example.com[192.0.2.1] while sending RCPT TO
 *   message size 20480 exceeds size limit 10240 of server mx.example.com[192.0.2.1]
 */
import { replyDsn, replyString, type ServerReply } from './reply-parser.js';
import type { SessionError } from './session.js';

/** A failure of one attempt: what to report and whether the next server may be tried. */
export interface Failure {
  dsn: string;
  reason: string;
  /** Final for the recipients it concerns (a bounce) rather than a deferral. */
  permanent: boolean;
}

/** Conversation stages, in Postfix's wording for "while …". */
export const STAGE = {
  greeting: 'receiving the initial server greeting',
  ehlo: 'performing the EHLO handshake',
  helo: 'performing the HELO handshake',
  starttls: 'performing the STARTTLS handshake',
  auth: 'performing SASL authentication',
  mail: 'sending MAIL FROM',
  rcpt: 'sending RCPT TO',
  data: 'sending DATA command',
  body: 'sending message content',
  dot: 'sending end of data -- message may be sent more than once',
  rset: 'sending RSET',
} as const;
export type Stage = (typeof STAGE)[keyof typeof STAGE];

/** "in reply to …" names. */
export const COMMAND = {
  mail: 'MAIL FROM command',
  rcpt: 'RCPT TO command',
  data: 'DATA command',
  dot: 'end of DATA command',
  ehlo: 'EHLO command',
  helo: 'HELO command',
} as const;

export const soft = (dsn: string): string => (dsn.startsWith('5') ? `4${dsn.slice(1)}` : dsn);

export function connectFailure(host: string, addr: string, port: number, detail: string): Failure {
  return { dsn: '4.4.1', reason: `connect to ${host}[${addr}]:${port}: ${detail}`, permanent: false };
}

export function streamFailure(err: SessionError, namaddr: string, stage: Stage): Failure {
  if (err.kind === 'timeout') return { dsn: '4.4.2', reason: `conversation with ${namaddr} timed out while ${stage}`, permanent: false };
  if (err.kind === 'malformed') return { dsn: '4.4.2', reason: `conversation with ${namaddr} failed while ${stage}: ${err.detail}`, permanent: false };
  return { dsn: '4.4.2', reason: `lost connection with ${namaddr} while ${stage}`, permanent: false };
}

export function saidFailure(namaddr: string, r: ServerReply, command: string): Failure {
  return { dsn: replyDsn(r), reason: `host ${namaddr} said: ${replyString(r)} (in reply to ${command})`, permanent: r.code >= 500 };
}

export function refusedFailure(namaddr: string, r: ServerReply, permanent: boolean): Failure {
  const dsn = replyDsn(r);
  return { dsn: permanent ? dsn : soft(dsn), reason: `host ${namaddr} refused to talk to me: ${replyString(r)}`, permanent };
}

export function localFailure(dsn: string, reason: string, permanent = false): Failure {
  return { dsn, reason, permanent };
}
