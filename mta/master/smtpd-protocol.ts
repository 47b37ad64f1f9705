/*
 * Messages between the master process and its smtpd processes (Node's IPC channel of `fork`;
 * listening sockets travel as the handle of a `listener` message). Everything an smtpd process
 * sends is checked before the master acts on it (isSmtpdMessage): a confused or compromised smtpd
 * process can ask for nothing but a queue scan or a site flush.
 *
 * master → smtpd: init (which slot of the queue-ID space, and the smtpd addresses in
 * smtpdEndpoints() order), listener (accept on this address: its listening socket travels with it;
 * sent after ready, whenever the master spreads the load: spread.ts), pause (stop accepting; the
 * sessions in progress go on), credit (active slots qmgr lends: that many new messages may be
 * stored straight as active), stop.
 * smtpd → master: ready (smtpd set up on every address, not accepting yet), enqueued (queue IDs
 * committed and flushed since the last notice: `ids` went to incoming, `admitted` straight to
 * active with a credit each; sent at most once per event-loop turn), sessions (how many SMTP
 * sessions it holds now; sent at most every 100 ms while the number changes), etrn (a site to
 * flush).
 */
import type { SmtpdEndpoint } from './services.js';

export interface InitMessage {
  readonly type: 'init';
  readonly configDir: string;
  /** This process's queue-ID slot (1 … count-1; the master's own cleanup has slot 0). */
  readonly slot: number;
  readonly slots: number;
  /** Stay as the user the master started as (tests; a master that keeps its privileges). */
  readonly keepPrivileges: boolean;
  readonly endpoints: readonly SmtpdEndpoint[];
}

export interface ListenerMessage {
  readonly type: 'listener';
  readonly index: number;
  readonly endpoint: SmtpdEndpoint;
}

export type MasterToSmtpd =
  | InitMessage
  | ListenerMessage
  | { readonly type: 'pause' }
  | { readonly type: 'credit'; readonly n: number }
  | { readonly type: 'stop' };

export type SmtpdToMaster =
  | { readonly type: 'ready' }
  | { readonly type: 'enqueued'; readonly ids: readonly string[]; readonly admitted: readonly string[] }
  | { readonly type: 'sessions'; readonly n: number }
  | { readonly type: 'etrn'; readonly domain: string };

const MAX_IDS = 100_000;

function idList(v: unknown): boolean {
  return Array.isArray(v) && v.length <= MAX_IDS && v.every((x) => typeof x === 'string' && x.length <= 255);
}

export function isSmtpdMessage(m: unknown): m is SmtpdToMaster {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as Record<string, unknown>;
  switch (o['type']) {
    case 'ready':
      return true;
    case 'enqueued':
      return idList(o['ids']) && idList(o['admitted']);
    case 'sessions':
      return Number.isInteger(o['n']) && (o['n'] as number) >= 0 && (o['n'] as number) <= 1_000_000;
    case 'etrn':
      return typeof o['domain'] === 'string' && o['domain'].length <= 255;
    default:
      return false;
  }
}

export function isMasterMessage(m: unknown): m is MasterToSmtpd {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as Record<string, unknown>;
  switch (o['type']) {
    case 'init':
      return typeof o['configDir'] === 'string' && Number.isInteger(o['slot']) && Number.isInteger(o['slots'])
        && typeof o['keepPrivileges'] === 'boolean' && Array.isArray(o['endpoints']);
    case 'listener':
      return Number.isInteger(o['index']) && typeof o['endpoint'] === 'object' && o['endpoint'] !== null;
    case 'credit':
      return Number.isInteger(o['n']) && (o['n'] as number) > 0;
    case 'pause':
    case 'stop':
      return true;
    default:
      return false;
  }
}
