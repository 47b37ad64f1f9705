/*
 * Client side of the Postern admin protocol (mda/admin/protocol.ts): connects to
 * `<base_dir>/postern-admin`, sends VERSION and one command, collects replies until OK or ERR.
 * Every step is bounded by a timeout; a missing socket means the daemon is not running.
 */
import { createConnection } from 'node:net';
import { ADMIN_MAX_LINE, ADMIN_PROTOCOL_VERSION, formatAdminRequest, parseAdminReply, type AdminReply, type AdminRequest } from '../../admin/protocol.js';

export class AdminClientError extends Error {
  override readonly name = 'AdminClientError';
}

/** Sends `req` and resolves with the replies before the final OK (ERR rejects). */
export function adminRequest(path: string, req: AdminRequest, timeoutMs = 10_000): Promise<AdminReply[]> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    const replies: AdminReply[] = [];
    let buf = '';
    let done = false;
    const finish = (err: Error | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err !== undefined) reject(err);
      else resolve(replies);
    };
    const timer = setTimeout(() => finish(new AdminClientError(`Timeout talking to ${path}`)), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => {
      sock.write(formatAdminRequest({ kind: 'version', name: 'postern-admin', version: ADMIN_PROTOCOL_VERSION }));
      sock.write(formatAdminRequest(req));
    });
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > ADMIN_MAX_LINE * 64) return finish(new AdminClientError('Reply too long'));
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let r: AdminReply;
        try {
          r = parseAdminReply(line);
        } catch (err) {
          return finish(err as Error);
        }
        if (r.kind === 'version') {
          if (r.version !== ADMIN_PROTOCOL_VERSION) return finish(new AdminClientError(`Unsupported admin protocol version ${r.version}`));
        } else if (r.kind === 'ok') return finish(undefined);
        else if (r.kind === 'err') return finish(new AdminClientError(r.text));
        else replies.push(r);
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => finish(new AdminClientError(`net_connect_unix(${path}) failed: ${err.code === 'ENOENT' ? 'No such file or directory' : err.code === 'ECONNREFUSED' ? 'Connection refused' : err.message}`)));
    sock.on('close', () => finish(new AdminClientError(`Disconnected from ${path}`)));
  });
}
