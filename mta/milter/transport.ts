/*
 * The socket under one milter connection: `inet:host:port` or `unix:/path` (Postfix's milter
 * endpoint syntax; `local:` is a synonym of `unix:`), a connect deadline, and packet reads with a
 * deadline each (Postfix sets the stream timeout to milter_command_timeout, or to
 * milter_content_timeout while message content is sent). Bytes that arrive are framed by
 * codec.ts's PacketReader, which refuses packets over the size limit.
 */
import { connect, type Socket } from 'node:net';
import { PacketReader, type Packet } from './codec.js';

export class MilterTransportError extends Error {
  override readonly name = 'MilterTransportError';
}

export type MilterEndpoint = { kind: 'inet'; host: string; port: number } | { kind: 'unix'; path: string };

/** Parses `inet:host:port`, `inet:[v6addr]:port`, `unix:/path` or `local:/path`. */
export function parseMilterEndpoint(spec: string): MilterEndpoint {
  const colon = spec.indexOf(':');
  const transport = colon < 0 ? '' : spec.slice(0, colon);
  const endpoint = colon < 0 ? '' : spec.slice(colon + 1);
  if (transport === '' || endpoint === '') throw new MilterTransportError(`Milter service needs transport:endpoint instead of "${spec}"`);
  if (transport === 'unix' || transport === 'local') return { kind: 'unix', path: endpoint };
  if (transport !== 'inet') throw new MilterTransportError(`invalid transport name: ${transport} in Milter service: ${spec}`);
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(endpoint);
  const host = m ? (m[1] ?? m[2] ?? '') : '';
  const port = m ? Number(m[3]) : NaN;
  if (!m || host === '' || !(port > 0 && port < 65536)) throw new MilterTransportError(`bad inet endpoint: ${endpoint} in Milter service: ${spec}`);
  return { kind: 'inet', host, port };
}

export class MilterTransport {
  private readonly reader: PacketReader;
  private failure: Error | undefined;
  private waiter: (() => void) | undefined;

  private constructor(
    private readonly sock: Socket,
    maxPacket: number,
  ) {
    this.reader = new PacketReader(maxPacket);
    sock.on('data', (chunk: Buffer) => {
      try {
        this.reader.push(chunk);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      this.wake();
    });
    sock.on('error', (err) => this.fail(err));
    sock.on('close', () => this.fail(new MilterTransportError('connection closed by milter')));
  }

  static async open(endpoint: MilterEndpoint, timeoutMs: number, maxPacket: number): Promise<MilterTransport> {
    const sock = endpoint.kind === 'inet' ? connect({ host: endpoint.host, port: endpoint.port }) : connect({ path: endpoint.path });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new MilterTransportError('Connection timed out'));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.removeListener('error', reject);
        resolve();
      });
      sock.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    if (endpoint.kind === 'inet') sock.setNoDelay(true);
    return new MilterTransport(sock, maxPacket);
  }

  /** Writes bytes; waits for the kernel to take them when the socket buffer is full. */
  async send(bytes: Buffer, timeoutMs: number): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.sock.write(bytes)) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new MilterTransportError('timeout writing to milter')), timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.sock.removeListener('close', done);
        if (this.failure) reject(this.failure);
        else resolve();
      };
      this.sock.once('drain', done);
      this.sock.once('close', done);
    });
  }

  /** The next packet, or a MilterTransportError / MilterProtocolError. */
  async read(timeoutMs: number): Promise<Packet> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const p = this.reader.next();
      if (p) return p;
      if (this.failure) throw this.failure;
      const left = deadline - Date.now();
      if (left <= 0) throw new MilterTransportError('timeout reading from milter');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  close(): void {
    this.failure ??= new MilterTransportError('connection closed');
    this.sock.destroy();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.sock.destroy();
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}
