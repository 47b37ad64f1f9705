/*
 * smtpd's SASL backend for `smtpd_sasl_type = dovecot`: a client of Dovecot's auth-client protocol
 * (shared/proto/dovecot-auth-client.ts), so Postern's smtpd authenticates against real Dovecot's auth
 * socket or against Postern's own MDA. Behaviour follows Postfix's xsasl_dovecot_server.c
 * (reference/postfix.md §8):
 *  - handshake `VERSION 1 2` + `CPID`; requires major version 1; collects MECH lines until DONE;
 *    refuses a server that sends SPID before any MECH (the auth-master socket by mistake);
 *  - requests `AUTH <n> <MECH> service=smtp nologin lip= rip= [secured] [resp=]`;
 *  - OK must carry `user=`; CONT is a base64 challenge; FAIL's `reason=` becomes the SMTP text;
 *  - every read has a timeout (10 s, as Postfix's), one reconnect when the connection is gone.
 * One connection serves all smtpd sessions of the process; requests are multiplexed by id.
 * The server is trusted no further than the protocol: over-long lines, unknown ids and broken
 * replies end the connection and fail the pending requests as temporary errors.
 */
import { createConnection, type Socket } from 'node:net';
import {
  AUTH_MAX_LINE,
  formatClientLine,
  parseServerLine,
  type AuthServerLine,
} from '../../../shared/proto/dovecot-auth-client.js';
import { fieldValue } from '../../../shared/proto/tab-escape.js';
import type { AnnouncedMech } from './mechanisms.js';

export type SaslStep =
  | { kind: 'ok'; user: string }
  | { kind: 'continue'; challenge: string; id: number }
  | { kind: 'fail'; reason: string | undefined; temporary: boolean };

export interface SaslConnectionFacts {
  /** smtpd_sasl_service */
  service: string;
  lip: string;
  rip: string;
  /** TLS is active on the SMTP session. */
  secured: boolean;
}

export class SaslBackendError extends Error {
  override readonly name = 'SaslBackendError';
}

/** `smtpd_sasl_path`: `inet:host:port`, an absolute path, or a path relative to queue_directory. */
export function resolveSaslPath(path: string, queueDirectory: string): { host: string; port: number } | { path: string } {
  if (path.startsWith('inet:')) {
    const rest = path.slice(5);
    const m = /^\[?([^\]]*)\]?:(\d+)$/.exec(rest);
    if (!m) throw new SaslBackendError(`invalid smtpd_sasl_path: ${path}`);
    return { host: m[1]!, port: Number(m[2]) };
  }
  const p = path.startsWith('unix:') ? path.slice(5) : path;
  return { path: p.startsWith('/') ? p : `${queueDirectory.replace(/\/$/, '')}/${p}` };
}

interface Pending {
  resolve: (s: SaslStep) => void;
  timer: NodeJS.Timeout;
}

export interface DovecotSaslOptions {
  endpoint: { host: string; port: number } | { path: string };
  timeoutMs?: number;
}

export class DovecotSaslClient {
  private socket: Socket | undefined;
  private ready: Promise<AnnouncedMech[]> | undefined;
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly timeoutMs: number;

  constructor(private readonly opts: DovecotSaslOptions) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** The mechanisms the server announced (connecting if needed). */
  mechanisms(): Promise<AnnouncedMech[]> {
    this.ready ??= this.connect().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  /** Starts an authentication; `initial` is the client's base64 initial response, if any. */
  async start(mech: string, initial: string | undefined, facts: SaslConnectionFacts): Promise<SaslStep> {
    await this.mechanisms();
    const id = this.nextId++;
    const params = {
      service: facts.service, lip: facts.lip, rip: facts.rip, secured: facts.secured, nologin: true,
      validClientCert: false, noPenalty: false, finalRespOk: false, debug: false, extra: [],
      ...(initial !== undefined ? { resp: initial } : {}),
    };
    return this.request(id, formatClientLine({ kind: 'AUTH', id, mech, params }));
  }

  /** Answers a CONT challenge with the client's base64 response. */
  continue(id: number, response: string): Promise<SaslStep> {
    return this.request(id, formatClientLine({ kind: 'CONT', id, data: response }));
  }

  close(): void {
    this.socket?.destroy();
    this.failAll('connection closed');
  }

  private request(id: number, line: string): Promise<SaslStep> {
    const socket = this.socket;
    if (!socket || socket.destroyed) {
      // The connection went away between requests: reconnect once, as Postfix does.
      this.ready = undefined;
      return this.mechanisms().then(() => this.request(id, line));
    }
    return new Promise<SaslStep>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ kind: 'fail', reason: undefined, temporary: true });
      }, this.timeoutMs);
      this.pending.set(id, { resolve, timer });
      socket.write(`${line}\n`);
    });
  }

  private connect(): Promise<AnnouncedMech[]> {
    return new Promise<AnnouncedMech[]>((resolve, reject) => {
      const ep = this.opts.endpoint;
      const socket = 'path' in ep ? createConnection(ep.path) : createConnection(ep.port, ep.host);
      this.socket = socket;
      this.buffer = '';
      const mechs: AnnouncedMech[] = [];
      let handshakeDone = false;
      let sawVersion = false;
      const timer = setTimeout(() => fail(new SaslBackendError('timeout while reading the auth server handshake')), this.timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        if (!handshakeDone) reject(err);
      };
      socket.setEncoding('utf8');
      socket.once('connect', () => {
        socket.write(`${formatClientLine({ kind: 'VERSION', major: 1, minor: 2 })}\n`);
        socket.write(`${formatClientLine({ kind: 'CPID', pid: String(process.pid) })}\n`);
      });
      socket.on('error', (err) => {
        fail(new SaslBackendError(`connect to auth server: ${err.message}`));
        this.failAll(err.message);
      });
      socket.on('close', () => {
        if (!handshakeDone) fail(new SaslBackendError('auth server closed the connection during the handshake'));
        this.failAll('connection closed');
      });
      socket.on('data', (chunk: string) => {
        this.buffer += chunk;
        if (this.buffer.length > AUTH_MAX_LINE && !this.buffer.includes('\n')) {
          fail(new SaslBackendError('auth server sent an over-long line'));
          return;
        }
        let nl: number;
        while ((nl = this.buffer.indexOf('\n')) >= 0) {
          const raw = this.buffer.slice(0, nl);
          this.buffer = this.buffer.slice(nl + 1);
          let line: AuthServerLine;
          try {
            line = parseServerLine(raw);
          } catch (err) {
            fail(new SaslBackendError(`auth server: ${(err as Error).message}`));
            return;
          }
          if (!handshakeDone) {
            if (line.kind === 'VERSION') {
              if (line.major !== 1) {
                fail(new SaslBackendError(`auth server protocol version ${line.major} not supported`));
                return;
              }
              sawVersion = true;
            } else if (line.kind === 'MECH') {
              mechs.push({ name: line.name, flags: line.flags });
            } else if (line.kind === 'SPID' && mechs.length === 0) {
              fail(new SaslBackendError('SPID before MECH: this is an auth-master socket, not auth-client'));
              return;
            } else if (line.kind === 'DONE') {
              if (!sawVersion) {
                fail(new SaslBackendError('auth server handshake without VERSION'));
                return;
              }
              handshakeDone = true;
              clearTimeout(timer);
              resolve(mechs);
            }
            continue;
          }
          this.onReply(line);
        }
      });
    });
  }

  private onReply(line: AuthServerLine): void {
    if (line.kind !== 'OK' && line.kind !== 'CONT' && line.kind !== 'FAIL') return; // ignored, as Postfix does
    const p = this.pending.get(line.id);
    if (!p) return;
    this.pending.delete(line.id);
    clearTimeout(p.timer);
    if (line.kind === 'OK') {
      const user = fieldValue(line.fields, 'user');
      p.resolve(user ? { kind: 'ok', user } : { kind: 'fail', reason: undefined, temporary: true });
    } else if (line.kind === 'CONT') {
      p.resolve({ kind: 'continue', challenge: line.data, id: line.id });
    } else {
      const temporary = line.fields.some(([k, v]) => k === 'temp' || (k === 'code' && v === 'temp_fail'));
      p.resolve({ kind: 'fail', reason: fieldValue(line.fields, 'reason'), temporary });
    }
  }

  private failAll(why: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.resolve({ kind: 'fail', reason: undefined, temporary: true });
      this.pending.delete(id);
    }
    void why;
  }
}
