/*
 * The auth service's Unix-socket listeners (Dovecot `service auth { unix_listener … }`): each
 * listener has a path, mode, user and group, and speaks either the auth-client protocol (Postfix
 * smtpd, login processes) or the auth-master/userdb protocol (LMTP, doveadm). A stale socket file
 * is replaced; ownership and mode are set before the first client can connect to a half-made
 * socket (the socket is created inside the listen call, then chmod/chown right after: the window
 * is the same as Dovecot's).
 *
 * Ownership is applied only when running as root (nobody else may give a socket away).
 * Distrusts clients: lines are bounded (postern_auth_max_line_length), a too long line or a protocol
 * "BUG" drops the connection; socket errors end only that connection, never the service.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { chmod, chown, lstat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import type { AuthService } from './auth-service.js';
import { AuthClientConnection } from './client-connection.js';
import { AuthMasterConnection } from './master-connection.js';
import { LineBuffer, LineTooLongError } from './lines.js';
import type { Mechanism } from './mech/types.js';
import { enabledMechanisms } from './mech/registry.js';
import { resolveGid, resolveUid } from './sysusers.js';
import { silentLog, type AuthLog } from './log.js';

export type AuthListenerKind = 'auth-client' | 'auth-userdb' | 'auth-master';

export interface AuthListener {
  kind: AuthListenerKind;
  /** Absolute socket path. */
  path: string;
  /** e.g. 0o666 (Dovecot's unix_listener mode). */
  mode: number;
  /** User/group names or numbers; '' leaves them as created. */
  user?: string;
  group?: string;
}

export interface AuthServerOptions {
  service: AuthService;
  listeners: AuthListener[];
  log?: AuthLog;
}

export interface RunningAuthServer {
  /** Stops listening, drops every connection, removes the socket files. */
  close(): Promise<void>;
}

async function removeStaleSocket(path: string): Promise<void> {
  try {
    const st = await lstat(path);
    if (st.isSocket()) await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

interface Conn {
  handshake(): string[];
  handleLine(line: string): void;
  close(): void;
}

export async function startAuthServer(o: AuthServerOptions): Promise<RunningAuthServer> {
  const log = o.log ?? silentLog;
  const mechanisms: Mechanism[] = enabledMechanisms(o.service.settings.auth_mechanisms);
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  let nextCuid = 1;
  const spid = String(process.pid);

  const attach = (kind: AuthListenerKind, sock: Socket): void => {
    sockets.add(sock);
    const lines = new LineBuffer(o.service.settings.postern_auth_max_line_length);
    const io = {
      send: (line: string) => {
        if (!sock.destroyed) sock.write(`${line}\n`);
      },
      close: () => {
        sock.end();
        sock.destroySoon();
      },
    };
    const conn: Conn = kind === 'auth-client'
      ? new AuthClientConnection(io, { service: o.service, mechanisms, spid, cuid: nextCuid++, cookie: randomBytes(16).toString('hex'), log })
      : new AuthMasterConnection(io, { service: o.service, spid, log });
    sock.on('data', (chunk: Buffer) => {
      let got: string[];
      try {
        got = lines.push(chunk);
      } catch (err) {
        if (!(err instanceof LineTooLongError)) throw err;
        log.error(`BUG: ${kind} client sent too long line`);
        conn.close();
        return;
      }
      for (const l of got) conn.handleLine(l);
    });
    sock.on('error', () => conn.close());
    sock.on('close', () => {
      sockets.delete(sock);
      conn.close();
    });
    sock.write(conn.handshake().map((l) => `${l}\n`).join(''));
  };

  try {
    for (const l of o.listeners) {
      await removeStaleSocket(l.path);
      const srv = createServer((s) => attach(l.kind, s));
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(l.path, () => {
          srv.off('error', reject);
          resolve();
        });
      });
      servers.push(srv);
      srv.on('error', (err) => log.error(`${l.path}: ${err.message}`));
      // Only root may give a socket away; anyone else keeps it (and needs no such user to exist).
      const root = process.getuid?.() === 0;
      const uid = root && l.user ? resolveUid(l.user) : undefined;
      const gid = root && l.group ? resolveGid(l.group) : undefined;
      if (root && ((l.user && uid === undefined) || (l.group && gid === undefined))) {
        throw new RangeError(`${l.path}: unknown user or group ${l.user ?? ''}:${l.group ?? ''}`);
      }
      if (uid !== undefined || gid !== undefined) await chown(l.path, uid !== undefined ? Number(uid) : -1, gid !== undefined ? Number(gid) : -1);
      await chmod(l.path, l.mode);
    }
  } catch (err) {
    for (const s of servers) s.close();
    throw err;
  }

  return {
    async close(): Promise<void> {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      for (const l of o.listeners) await unlink(l.path).catch(() => undefined);
    },
  };
}
