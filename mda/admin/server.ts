/*
 * The daemon side of the Postern admin protocol (protocol.ts): a Unix stream socket at
 * `<base_dir>/postern-admin`, mode 0600, bound by mda/main.ts before the privilege drop (so only
 * the user the daemon started as, normally root, may connect) and unlinked at shutdown. One
 * request per connection after the VERSION handshake: WHO lists the registry's sessions, KICK
 * ends the matching ones and names their users; then OK and the server closes.
 *
 * Distrusts: the client (line length bounded, one request, a timeout, unknown input → ERR).
 */
import { chmodSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import {
  ADMIN_MAX_LINE, ADMIN_PROTOCOL_VERSION, AdminProtocolError, formatAdminReply, parseAdminRequest, type AdminReply,
} from './protocol.js';
import type { SessionRegistry } from './sessions.js';

const CLIENT_TIMEOUT_MS = 10_000;

export interface AdminServer {
  readonly path: string;
  close(): Promise<void>;
}

function handle(sock: Socket, registry: SessionRegistry): void {
  let buf = '';
  let versioned = false;
  const send = (r: AdminReply): void => {
    sock.write(formatAdminReply(r));
  };
  const fail = (text: string): void => {
    send({ kind: 'err', text });
    sock.end();
  };
  sock.setEncoding('utf8');
  sock.setTimeout(CLIENT_TIMEOUT_MS, () => sock.destroy());
  sock.on('error', () => undefined);
  sock.on('data', (chunk: string) => {
    buf += chunk;
    if (buf.length > ADMIN_MAX_LINE) return fail('Line too long');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let req;
      try {
        req = parseAdminRequest(line);
      } catch (err) {
        return fail(err instanceof AdminProtocolError ? err.message : 'Invalid request');
      }
      if (req.kind === 'version') {
        if (req.name !== 'postern-admin' || req.version !== ADMIN_PROTOCOL_VERSION) return fail('Unsupported protocol version');
        versioned = true;
        send({ kind: 'version', version: ADMIN_PROTOCOL_VERSION });
        continue;
      }
      if (!versioned) return fail('VERSION expected');
      if (req.kind === 'who') {
        for (const s of registry.list(req.mask)) send({ kind: 'session', session: { user: s.user, service: s.service, pid: s.pid, ip: s.ip, session: s.session } });
      } else {
        for (const s of registry.kick(req.mask, req.net)) send({ kind: 'kicked', user: s.user });
      }
      send({ kind: 'ok' });
      sock.end();
      buf = '';
      return;
    }
  });
}

/** Binds the socket (replacing a stale one) and serves until close(). */
export async function startAdminServer(path: string, registry: SessionRegistry): Promise<AdminServer> {
  try {
    unlinkSync(path);
  } catch {
    // not there
  }
  const server: Server = createServer((sock) => handle(sock, registry));
  // Created 0600 from the start (umask), not chmod'ed afterwards: no window for other users.
  const oldMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(oldMask);
  }
  chmodSync(path, 0o600);
  return {
    path,
    async close() {
      await new Promise((r) => server.close(() => r(undefined)));
      try {
        unlinkSync(path);
      } catch {
        // after a privilege drop base_dir may not be ours; the next start replaces the socket
      }
    },
  };
}
