/*
 * A minimal SMTP client for interop tests: connect, read (multi-line) replies, send commands.
 * Every read has a timeout so a silent server fails the test instead of hanging it.
 */
import { connect, type Socket } from 'node:net';

export interface SmtpReply {
  code: number;
  lines: string[];
  text: string;
}

export class SmtpDialog {
  private buf = '';
  private waiters: (() => void)[] = [];
  private closed = false;

  private constructor(private readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => undefined);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  static async open(host: string, port: number): Promise<SmtpDialog> {
    const sock = connect(port, host);
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    return new SmtpDialog(sock);
  }

  async reply(timeoutMs = 20_000): Promise<SmtpReply> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const lines = this.buf.split('\r\n');
      for (let i = 0; i < lines.length - 1; i++) {
        if (/^\d{3} /.test(lines[i]!) || /^\d{3}$/.test(lines[i]!)) {
          const got = lines.slice(0, i + 1);
          this.buf = lines.slice(i + 1).join('\r\n');
          return { code: Number(got[i]!.slice(0, 3)), lines: got, text: got.join('\n') };
        }
      }
      if (this.closed) throw new Error(`connection closed; partial: ${JSON.stringify(this.buf)}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`no SMTP reply within ${timeoutMs} ms; partial: ${JSON.stringify(this.buf)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async cmd(line: string, timeoutMs?: number): Promise<SmtpReply> {
    this.sock.write(`${line}\r\n`);
    return this.reply(timeoutMs);
  }

  close(): void {
    this.sock.destroy();
  }
}
