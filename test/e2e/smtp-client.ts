/*
 * The e2e suite's SMTP client: one command, one reply (multi-line replies joined), STARTTLS and
 * implicit TLS (certificates not verified: the examples use a fresh self-signed pair), and a chosen
 * local address, so a test can connect from 127.0.0.2: outside `mynetworks = 127.0.0.1/32`, the way
 * a stranger on the Internet reaches port 25. Every read has a timeout.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface Reply {
  code: number;
  /** The whole reply, lines joined with "\n" ("250-a\n250 b"). */
  text: string;
  /** The last line's text after the code ("2.0.0 Ok: queued as …"). */
  last: string;
}

export interface OpenOptions {
  localAddress?: string;
  /** Implicit TLS (submissions, port 465). */
  tls?: boolean;
  timeoutMs?: number;
}

export class SmtpClient {
  private buf = '';
  private waiters: (() => void)[] = [];
  private closed = false;

  private constructor(private sock: Socket, private readonly timeoutMs: number) {
    this.attach(sock);
  }

  private attach(sock: Socket): void {
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

  static async open(host: string, port: number, o: OpenOptions = {}): Promise<SmtpClient> {
    const timeoutMs = o.timeoutMs ?? 60_000;
    const plain = netConnect({ host, port, localAddress: o.localAddress });
    await new Promise<void>((resolve, reject) => {
      plain.once('connect', () => resolve());
      plain.once('error', reject);
    });
    if (!o.tls) return new SmtpClient(plain, timeoutMs);
    const secure = tlsConnect({ socket: plain, rejectUnauthorized: false, servername: 'mail.example.com' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    return new SmtpClient(secure, timeoutMs);
  }

  /** Reads one complete reply. */
  async reply(): Promise<Reply> {
    const end = Date.now() + this.timeoutMs;
    for (;;) {
      const m = /^(\d{3}) [^\n]*\r?\n/m.exec(this.buf);
      if (m) {
        const cut = m.index + m[0].length;
        const text = this.buf.slice(0, cut).replace(/\r?\n$/, '').replace(/\r\n/g, '\n');
        this.buf = this.buf.slice(cut);
        return { code: Number(m[1]), text, last: m[0].slice(4).trim() };
      }
      if (this.closed) throw new Error(`connection closed; pending: ${JSON.stringify(this.buf)}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`no reply; pending: ${JSON.stringify(this.buf)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async cmd(line: string): Promise<Reply> {
    this.sock.write(`${line}\r\n`);
    return this.reply();
  }

  /** STARTTLS and the TLS handshake; the caller sends EHLO again. */
  async starttls(): Promise<Reply> {
    const r = await this.cmd('STARTTLS');
    if (r.code !== 220) return r;
    const plain = this.sock;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const secure = tlsConnect({ socket: plain, rejectUnauthorized: false, servername: 'mail.example.com' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.sock = secure;
    this.attach(secure);
    return r;
  }

  /** DATA, the message (dot-stuffed here), the final dot: returns the reply to the dot. */
  async data(message: string): Promise<Reply> {
    const r = await this.cmd('DATA');
    if (r.code !== 354) return r;
    const body = message.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
    this.sock.write(body.endsWith('\r\n') ? body : `${body}\r\n`);
    return this.cmd('.');
  }

  close(): void {
    this.sock.destroy();
  }
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

export function authPlain(user: string, password: string): string {
  return `AUTH PLAIN ${b64(`\0${user}\0${password}`)}`;
}
