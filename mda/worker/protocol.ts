/*
 * The messages between the MDA master and its per-uid mail workers (Dovecot's split of a root
 * master from mail processes that run as the user's uid; see pool.ts for why and when).
 *
 * The channel is Node's IPC channel of a forked child with `serialization: 'advanced'` (the V8
 * structured clone, so Buffers, Maps and RegExps travel as they are). A session travels with its
 * socket as the message's handle: the client's TCP socket itself for plaintext connections, or
 * one end of a master-private Unix socket pair the master pipes TLS plaintext through.
 *
 * Types only, plus the type guard the two ends use on what arrives (IPC input is trusted as far
 * as coming from our own master/worker, but is still checked for shape before use).
 */
import type { KeyValueFields } from '../../shared/proto/tab-escape.js';
import type { AuthSettings } from '../auth/settings.js';
import type { DeliverySettings } from '../deliver/settings.js';
import type { ResolvedRecipient } from '../deliver/types.js';
import type { ImapSettings } from '../imap/settings.js';
import type { Pop3Settings } from '../pop3/settings.js';
import type { StorageErrorKind } from '../storage/api.js';
import type { UserStoreOptions } from '../mail-user.js';

/** Everything a worker needs from dovecot.conf (it never reads the configuration itself). */
export interface WorkerSettings {
  readonly imap: ImapSettings;
  readonly imapStore: UserStoreOptions;
  readonly pop3: Pop3Settings;
  readonly pop3Store: UserStoreOptions;
  readonly pop3Hostname: string;
  readonly delivery: DeliverySettings;
  readonly auth: AuthSettings;
}

/** The connection facts a session keeps across the hand-over. */
export interface ConnectionState {
  readonly remoteIp: string;
  readonly localIp: string;
  readonly remotePort: number;
  readonly localPort: number;
  /** The client speaks TLS to the master (the worker sees plaintext through the pair). */
  readonly tls: boolean;
}

/** A logged-in session handed to the worker: it opens the mail and answers the login command. */
export interface SessionHandoff {
  readonly type: 'session';
  readonly protocol: 'imap' | 'pop3';
  /** Dovecot's session ID, kept from the login process for log correlation. */
  readonly session: string;
  readonly user: string;
  readonly fields: KeyValueFields;
  readonly method: string;
  /** IMAP: the tag of the LOGIN/AUTHENTICATE command the worker completes. */
  readonly tag: string;
  /** Bytes the client pipelined after the login command, not yet parsed. */
  readonly pending: Buffer;
  readonly conn: ConnectionState;
}

/** One recipient's delivery, run by the worker that owns the recipient's uid. */
export interface DeliverRequest {
  readonly type: 'deliver';
  readonly id: number;
  readonly rcpt: ResolvedRecipient;
  /** `<session>[:R<n>]`, the log prefix's ID. */
  readonly rcptId: string;
  /** The message with the trace headers already prepended. */
  readonly message: Buffer;
  readonly size: number;
  readonly msgid: string;
}

export type MasterToWorker =
  /** First message to a worker: the uid and gid it serves (it drops to them, then takes work). */
  | { readonly type: 'assign'; readonly uid: number; readonly gid: number }
  | { readonly type: 'init'; readonly settings: WorkerSettings }
  | SessionHandoff
  | DeliverRequest
  | { readonly type: 'kick'; readonly session: string }
  /** Sent after the master stopped routing to this worker: finish what is running, then exit. */
  | { readonly type: 'retire' }
  | ({ readonly type: 'warm-up' } & WarmUpOrder);

/** A session shard runs the IMAP warm-up (imap/warmup.ts) for at most `maxMs`; `debug`: log its result (mail_debug). */
export interface WarmUpOrder {
  readonly maxMs: number;
  readonly debug: boolean;
}

export type DeliverReply =
  | { readonly type: 'delivered'; readonly id: number; readonly kind: 'saved'; readonly mailbox: string; readonly uid: number }
  | {
    readonly type: 'delivered'; readonly id: number; readonly kind: 'failed';
    readonly error: { readonly errorKind: StorageErrorKind; readonly clientText: string; readonly logDetail: string };
  };

export type WorkerToMaster =
  | { readonly type: 'ready' }
  | { readonly type: 'log'; readonly level: 'debug' | 'info' | 'warn' | 'error' | 'fatal'; readonly prefix: string; readonly text: string }
  /** The mail of a handed-over session is open (`doveadm who` lists it from now on). */
  | { readonly type: 'session-open'; readonly session: string }
  /** A handed-over session ended (its user+IP slot is free again). */
  | { readonly type: 'session-end'; readonly session: string }
  | DeliverReply
  /** No session or delivery for the idle time: the worker asks to be retired. */
  | { readonly type: 'idle' };

export function isWorkerMessage(m: unknown): m is WorkerToMaster {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';
}

export function isMasterMessage(m: unknown): m is MasterToWorker {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';
}
