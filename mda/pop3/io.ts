/*
 * The seam between the POP3 state machine and a transport. The socket adapter (server.ts) implements it over
 * net/tls sockets; tests implement it in memory. Writes resolve when the transport accepted the bytes
 * (backpressure); startTls resolves once the handshake completed and must drop any input the client pipelined
 * after STLS (RFC 2595 §3.1: it would be plaintext injected into the TLS session).
 */

import type { DetachedConnection } from '../worker/route.js';

export interface Pop3Io {
  write(data: Buffer | string): Promise<void>;
  startTls(): Promise<void>;
  /** Stops reading, flushes what was written and closes. */
  close(): void;
  /** Gives the connection up for a hand-over to a per-uid mail worker (socket adapters only). */
  handOff?(): DetachedConnection;
}

export interface Pop3ConnectionInfo {
  readonly rip: string;
  readonly lip: string;
  readonly rport: number;
  readonly lport: number;
  /** Implicit TLS listener (pop3s). */
  readonly tls: boolean;
}
