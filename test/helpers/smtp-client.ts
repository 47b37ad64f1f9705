/*
 * The tests' SMTP clients; every read has a deadline so a silent server fails the test instead of
 * hanging it.
 *  - smtpSession: sends lines one reply at a time and returns every reply (multi-line replies
 *    joined), for MTA tests that only look at the transcript.
 *  - SmtpClient: one command, one reply, STARTTLS and implicit TLS (certificates not verified: the
 *    examples use a fresh self-signed pair), and a chosen local address, so a test can connect from
 *    127.0.0.2: outside `mynetworks = 127.0.0.1/32`, the way a stranger on the Internet reaches
 *    port 25.
 * Distrusts the server: a reply ends at its first `ddd ` (or bare `ddd`) line; nothing else is parsed.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export async function smtpSession(port: number, lines: readonly string[], host = '127.0.0.1', timeoutMs = 20_000): Promise<string[]> {
  const sock = connect(port, host);
  sock.setEncoding('latin1');
  let buf = '';
  const replies: string[] = [];
  let waiter: (() => void) | undefined;
  let failure: Error | undefined;
  sock.on('data', (d: string) => {
    buf += d;
    let m: RegExpExecArray | null;
    while ((m = /^(\d{3}) .*\r\n/m.exec(buf))) {
      const end = m.index + m[0].length;
      replies.push(buf.slice(0, end).trimEnd());
      buf = buf.slice(end);
      waiter?.();
    }
  });
  sock.on('error', (err) => {
    failure = err;
    waiter?.();
  });
  sock.on('close', () => {
    failure ??= new Error('connection closed');
    waiter?.();
  });
  const timer = setTimeout(() => {
    failure = new Error(`SMTP session timed out after ${replies.length} replies`);
    waiter?.();
  }, timeoutMs);
  const next = async (n: number) => {
    while (replies.length < n) {
      if (failure) throw failure;
      await new Promise<void>((r) => (waiter = r));
    }
  };
  try {
    await next(1);
    for (const [i, l] of lines.entries()) {
      sock.write(`${l}\r\n`);
      await next(i + 2);
    }
  } finally {
    clearTimeout(timer);
    sock.end();
  }
  return replies;
}

export interface Reply {
  code: number;
  /** The reply's lines as received, without line ends ("250-a", "250 b"). */
  lines: string[];
  /** The whole reply, lines joined with "\n" ("250-a\n250 b"). */
  text: string;
  /** The last line's text after the code ("2.0.0 Ok: queued as …"). */
  last: string;
}

export interface OpenOptions {
  localAddress?: string;
  /** Implicit TLS (submissions, port 465). */
  tls?: boolean;
  /** Deadline of each read unless the call gives its own (default 60 s). */
  timeoutMs?: number;
}

async function startTls(plain: Socket): Promise<Socket> {
  const secure = tlsConnect({ socket: plain, rejectUnauthorized: false, servername: 'mail.example.com' });
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', () => resolve());
    secure.once('error', reject);
  });
  return secure;
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
    const plain = connect({ host, port, localAddress: o.localAddress });
    await new Promise<void>((resolve, reject) => {
      plain.once('connect', () => resolve());
      plain.once('error', reject);
    });
    return new SmtpClient(o.tls ? await startTls(plain) : plain, timeoutMs);
  }

  /** Reads one complete reply. */
  async reply(timeoutMs = this.timeoutMs): Promise<Reply> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      let pos = 0;
      for (let nl = this.buf.indexOf('\n'); nl >= 0; nl = this.buf.indexOf('\n', pos)) {
        const line = this.buf.slice(pos, nl).replace(/\r$/, '');
        pos = nl + 1;
        if (/^\d{3}(?: |$)/.test(line)) {
          const lines = this.buf.slice(0, nl).split('\n').map((l) => l.replace(/\r$/, ''));
          this.buf = this.buf.slice(pos);
          return { code: Number(line.slice(0, 3)), lines, text: lines.join('\n'), last: line.slice(4).trim() };
        }
      }
      if (this.closed) throw new Error(`connection closed; pending: ${JSON.stringify(this.buf)}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`no SMTP reply within ${timeoutMs} ms; pending: ${JSON.stringify(this.buf)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async cmd(line: string, timeoutMs?: number): Promise<Reply> {
    this.sock.write(`${line}\r\n`);
    return this.reply(timeoutMs);
  }

  /** STARTTLS and the TLS handshake; the caller sends EHLO again. */
  async starttls(): Promise<Reply> {
    const r = await this.cmd('STARTTLS');
    if (r.code !== 220) return r;
    const plain = this.sock;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    this.sock = await startTls(plain);
    this.attach(this.sock);
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
