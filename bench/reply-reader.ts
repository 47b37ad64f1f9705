/*
 * A socket adapter for line protocols in the benchmark clients: collects bytes, hands out complete
 * CRLF lines and SMTP/LMTP replies (the lines of one reply up to "NNN "), and fails the waiting
 * reader on timeout, error or close. Binary-safe (latin1 strings); no parsing beyond line framing.
 */
import { connect, type Socket } from 'node:net';

export class LineSocket {
  private buf = '';
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;

  private constructor(readonly sock: Socket) {
    sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => {
      this.buf += d.toString('latin1');
      this.wake();
    });
    sock.on('error', (e) => {
      this.failure ??= e;
      this.wake();
    });
    sock.on('close', () => {
      this.failure ??= new Error('connection closed');
      this.wake();
    });
  }

  static async open(target: string | { port: number; host: string }): Promise<LineSocket> {
    const sock = typeof target === 'string' ? connect(target) : connect(target.port, target.host);
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    return new LineSocket(sock);
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** Waits until `take` finds something in the buffer (it returns undefined when not yet). */
  private async until<T>(take: () => T | undefined, timeoutMs: number): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = take();
      if (v !== undefined) return v;
      if (this.failure) throw this.failure;
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timeout; buffered: ${JSON.stringify(this.buf.slice(0, 200))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiter = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  }

  async line(timeoutMs = 60_000): Promise<string> {
    return this.until(() => {
      const i = this.buf.indexOf('\r\n');
      if (i < 0) return undefined;
      const l = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      return l;
    }, timeoutMs);
  }

  /** One SMTP/LMTP reply: its code and its lines. */
  async reply(timeoutMs = 60_000): Promise<{ code: number; lines: string[] }> {
    const lines: string[] = [];
    for (;;) {
      const l = await this.line(timeoutMs);
      lines.push(l);
      if (l.length < 4 || l[3] !== '-') return { code: Number(l.slice(0, 3)), lines };
    }
  }

  /** Raw bytes: exactly n octets after whatever lines were consumed (IMAP literals). */
  async bytes(n: number, timeoutMs = 60_000): Promise<string> {
    return this.until(() => {
      if (this.buf.length < n) return undefined;
      const b = this.buf.slice(0, n);
      this.buf = this.buf.slice(n);
      return b;
    }, timeoutMs);
  }

  write(data: string | Buffer): void {
    this.sock.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  close(): void {
    this.sock.destroy();
  }
}
