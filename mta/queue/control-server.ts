/*
 * Server side of the qmgr control socket, for the MTA daemon: listens on
 * `$queue_directory/public/postern-qmgr`, reads one request line per connection, asks the handler
 * and writes one response line. A stale socket file from a crashed daemon is replaced.
 * Distrusts clients (any local user may connect, as to Postfix's public/ endpoints): lines are
 * parsed by control-proto.ts, overlong or idle connections are dropped.
 */
import { createServer, type Server } from 'node:net';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatResponse, MAX_LINE, parseRequest, type ControlRequest, type ControlResponse } from './control-proto.js';

export interface ControlServer {
  close(): Promise<void>;
}

export async function startControlServer(
  socketPath: string,
  handler: (req: ControlRequest) => Promise<ControlResponse> | ControlResponse,
  idleTimeoutMs = 10_000,
): Promise<ControlServer> {
  mkdirSync(dirname(socketPath), { recursive: true, mode: 0o711 });
  rmSync(socketPath, { force: true });
  const server: Server = createServer((sock) => {
    sock.setEncoding('latin1');
    sock.setTimeout(idleTimeoutMs, () => sock.destroy());
    let buf = '';
    let answered = false;
    sock.on('data', (d: string) => {
      if (answered) return;
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > MAX_LINE) sock.destroy();
        return;
      }
      answered = true;
      let req: ControlRequest;
      try {
        req = parseRequest(buf.slice(0, nl + 1));
      } catch (err) {
        sock.end(formatResponse({ status: 'ERROR', text: (err as Error).message }));
        return;
      }
      Promise.resolve()
        .then(() => handler(req))
        .then(
          (res) => sock.end(formatResponse(res)),
          (err: unknown) => sock.end(formatResponse({ status: 'ERROR', text: (err as Error).message ?? 'internal error' })),
        );
    });
    sock.on('error', () => sock.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  chmodSync(socketPath, 0o666);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}
