/*
 * One evaluation of restriction lists (smtpd_check.c's per-call state): the facts, the reply
 * target of the list being evaluated, warn_if_reject (applies to the next restriction only),
 * the first DEFER_IF_PERMIT / DEFER_IF_REJECT reply, HOLD/DISCARD side effects, and the log
 * lines produced. `reject()` is Postfix's smtpd_check_reject: it builds the reply, then lets
 * warn_if_reject turn it into a log line, or an earlier DEFER_IF_REJECT turn a 5xx into that
 * deferral. Pure.
 */
import type { SmtpReply } from '../../../shared/proto/smtp-reply.js';
import type { SmtpdFacts, SmtpdStage } from './api.js';
import { buildReply, type ReplyClass } from './reply.js';

export type Outcome = { kind: 'dunno' } | { kind: 'permit' } | { kind: 'reject'; reply: SmtpReply; disconnect?: boolean };

export const DUNNO: Outcome = { kind: 'dunno' };
export const PERMIT: Outcome = { kind: 'permit' };

export interface ReplyTarget {
  /** What goes inside `<…>`: `name[addr]`, the HELO name, an address, `DATA` … */
  name: string;
  cls: ReplyClass;
}

export interface EvalState {
  readonly stage: SmtpdStage;
  readonly facts: SmtpdFacts;
  readonly softBounce: boolean;
  target: ReplyTarget;
  warnIfReject: boolean;
  deferIfPermit?: SmtpReply;
  deferIfReject?: SmtpReply;
  hold?: string;
  discard?: string;
  /** PREPEND actions' header fields, in order. */
  prepend?: string[];
  recipientChecked: boolean;
  senderChecked: boolean;
  depth: number;
  log: string[];
}

export function newState(stage: SmtpdStage, facts: SmtpdFacts, softBounce: boolean): EvalState {
  return {
    stage, facts, softBounce,
    target: { name: clientName(facts), cls: 'Client host' },
    warnIfReject: false, recipientChecked: false, senderChecked: false, depth: 0, log: [],
  };
}

export function clientName(f: SmtpdFacts): string {
  return `${f.client.name}[${f.client.addr}]`;
}

/** `<name>: Class rejected: text`. */
export function rejectedText(t: ReplyTarget, text: string): string {
  return `<${t.name}>: ${t.cls} rejected: ${text}`;
}

/** smtpd_check_reject(): the reply, or DUNNO when warn_if_reject is in effect. */
export function reject(st: EvalState, code: number, dsn: string, text: string, cls: ReplyClass | undefined = st.target.cls, disconnect = false): Outcome {
  const r = buildReply(code, dsn, text, cls, st.softBounce);
  if (st.warnIfReject) {
    st.log.push(`reject_warning: ${st.stage.toUpperCase()} from ${clientName(st.facts)}: ${r.code} ${r.enhanced ?? ''} ${r.text}`);
    return DUNNO;
  }
  if (r.code >= 500 && st.deferIfReject !== undefined) return { kind: 'reject', reply: st.deferIfReject };
  return disconnect ? { kind: 'reject', reply: r, disconnect } : { kind: 'reject', reply: r };
}

/** Reply for DEFER_IF_PERMIT / DEFER_IF_REJECT bookkeeping (the first one wins). */
export function deferReply(st: EvalState, code: number, dsn: string, text: string, cls: ReplyClass = st.target.cls): SmtpReply {
  return buildReply(code, dsn, text, cls, false);
}
