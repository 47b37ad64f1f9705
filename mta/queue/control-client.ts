/*
 * Client side of the qmgr control socket (control-proto.ts): connect, send one request, read one
 * response line, with a timeout on the whole exchange. A socket that is absent or refuses the
 * connection means "mail system is down" to postqueue; ControlUnavailableError carries the
 * strerror(3) text for its warning line.
 */
import { createConnection } from 'node:net';
import { strerror } from '../../shared/errors/config-error.js';
import { formatRequest, MAX_LINE, parseResponse, type ControlRequest, type ControlResponse } from './control-proto.js';

export class ControlUnavailableError extends Error {
  override readonly name = 'ControlUnavailableError';
  constructor(readonly reason: string, options?: { cause?: unknown }) {
    super(reason, options);
  }
}

export function controlRequest(socketPath: string, req: ControlRequest, timeoutMs = 10_000): Promise<ControlResponse> {
  const line = formatRequest(req);
  return new Promise((resolve, reject) => {
    const sock = createConnection(socketPath);
    let buf = '';
    let settled = false;
    const finish = (err: Error | undefined, res?: ControlResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(res!);
    };
    const timer = setTimeout(() => finish(new ControlUnavailableError('Connection timed out')), timeoutMs);
    sock.setEncoding('latin1');
    sock.on('connect', () => sock.write(line));
    sock.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        try {
          finish(undefined, parseResponse(buf.slice(0, nl + 1)));
        } catch (err) {
          finish(err as Error);
        }
      } else if (buf.length > MAX_LINE) finish(new ControlUnavailableError('response too long'));
    });
    sock.on('error', (err) => finish(new ControlUnavailableError(strerror(err), { cause: err })));
    sock.on('end', () => finish(new ControlUnavailableError('Connection closed without a response')));
  });
}
