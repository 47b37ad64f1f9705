/*
 * A line-oriented test client for the text protocols (LMTP, IMAP, POP3, the auth protocol) over
 * TCP, implicit TLS or a Unix socket: lines are read with a deadline, so a server that stalls
 * fails the test with what it did send instead of hanging it.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export class LineClient {
  private buf = '';

  private constructor(readonly sock: Socket) {
    sock.on('data', (d: Buffer) => (this.buf += d.toString('latin1')));
    sock.on('error', () => undefined);
  }

  /** A TCP port on 127.0.0.1 (TLS from the first byte with `tls`, certificate not checked) or a Unix socket path. */
  static async open(target: number | string, o: { tls?: boolean } = {}): Promise<LineClient> {
    const sock = typeof target === 'string'
      ? netConnect(target)
      : o.tls === true ? tlsConnect({ port: target, host: '127.0.0.1', rejectUnauthorized: false }) : netConnect(target, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      sock.once(o.tls === true ? 'secureConnect' : 'connect', () => resolve());
      sock.once('error', reject);
    });
    return new LineClient(sock);
  }

  /** The next line without its CRLF. */
  async line(timeoutMs = 15_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const i = this.buf.indexOf('\n');
      if (i >= 0) {
        const l = this.buf.slice(0, i).replace(/\r$/, '');
        this.buf = this.buf.slice(i + 1);
        return l;
      }
      if (Date.now() > end) throw new Error(`timeout; buffered: ${JSON.stringify(this.buf)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Lines up to and including the first one starting with `prefix` (a tag, `250 `). */
  async until(prefix: string): Promise<string[]> {
    const out: string[] = [];
    for (;;) {
      const l = await this.line();
      out.push(l);
      if (l.startsWith(prefix)) return out;
    }
  }

  send(text: string): void {
    this.sock.write(text, 'latin1');
  }

  /** Sends one line (CRLF added) and returns the next line. */
  async cmd(text: string): Promise<string> {
    this.send(`${text}\r\n`);
    return this.line();
  }

  close(): void {
    this.sock.destroy();
  }
}
