/*
 * What the login side of IMAP and POP3 sees of the per-uid workers (pool.ts): after a successful
 * authentication it asks where the user's mail lives; the answer names the worker's pid (the
 * `mpid=` of Dovecot's login line) and transfers the connection there. Protocol code depends on
 * this interface only; main.ts builds it from the auth service and the worker pool.
 */
import type { ConnectionFacts } from '../mail-user.js';
import type { Socket } from 'node:net';
import type { ConnectionState } from './protocol.js';

/** A connection taken from its protocol adapter for the hand-over. */
export interface DetachedConnection {
  readonly socket: Socket;
  /** The socket is a TLSSocket: its plaintext must be piped. */
  readonly tls: boolean;
  readonly pending: Buffer;
  readonly conn: ConnectionState;
}

export interface MailRoute {
  /** The pid of the mail process that will serve the session. */
  readonly mpid: number;
  /**
   * Moves the connection to the mail process. `onEnd` runs once that session is over (or the
   * transfer failed). Rejects with a StorageError when the worker cannot take it.
   */
  transfer(
    h: { readonly protocol: 'imap' | 'pop3'; readonly session: string; readonly method: string; readonly tag: string },
    c: DetachedConnection,
    onEnd: () => void,
  ): Promise<void>;
}

/** Looks the user up (userdb) and picks the worker; throws StorageError TEMP like openStore. */
export type RouteUser = (user: string, facts: ConnectionFacts & { readonly service: string }) => Promise<MailRoute>;

/** A user's shard: FNV-1a of the name's UTF-8 bytes, mod n (stable across restarts). */
export function shardOf(user: string, n: number): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(user, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % n;
}
