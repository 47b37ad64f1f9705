/*
 * Scripted fake SMTP servers for the smtp(8) client tests, on 127.0.0.x addresses. A server is a
 * well-behaved ESMTP sink unless a hook says otherwise: each hook sees the command and may answer
 * with reply text, `close` (drop the connection), `stall` (never answer) or nothing (default reply).
 * STARTTLS upgrades with the given key/certificate, or misbehaves (`broken`: garbage instead of a
 * TLS handshake). Records every command line and every message received.
 * startRealSmtpSink runs Postfix's own smtp-sink(1) instead, for interop tests.
 */
import { spawn } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { TestContext } from 'node:test';

export type HookResult = string | 'close' | 'stall' | undefined;

export interface FakeSmtpOptions {
  host?: string;
  port?: number;
  /** Greeting reply; `stall` never greets, `close` hangs up at once. */
  greeting?: string | 'stall' | 'close';
  /** EHLO keywords after the first line (default PIPELINING, SIZE 10240000, 8BITMIME, DSN, SMTPUTF8). */
  keywords?: string[];
  /** Answer to EHLO (overrides keywords). */
  ehlo?: (args: string) => HookResult;
  helo?: (args: string) => HookResult;
  mail?: (args: string) => HookResult;
  rcpt?: (args: string) => HookResult;
  data?: () => HookResult;
  /** Reply after the end of data (default `250 2.0.0 Ok: queued as FAKE`). */
  dot?: (msg: ReceivedMessage) => HookResult;
  auth?: (args: string, sock: FakeConn) => HookResult | Promise<HookResult>;
  /** `ok` (with tls), `broken`, or a reply text to refuse. */
  starttls?: 'ok' | 'broken' | string;
  tls?: { key: string; cert: string };
  /** Raw handler replacing the whole dialogue. */
  raw?: (sock: Socket) => void;
}

export interface ReceivedMessage {
  from: string;
  mailArgs: string;
  to: string[];
  rcptArgs: string[];
  data: string;
}

export interface FakeConn {
  write(line: string): void;
  /** Next line from the client. */
  nextLine(): Promise<string>;
}

export interface FakeSmtpServer {
  readonly host: string;
  readonly port: number;
  readonly commands: string[];
  readonly messages: ReceivedMessage[];
  connections: number;
  close(): Promise<void>;
}

export async function startFakeSmtp(t: TestContext | undefined, o: FakeSmtpOptions = {}): Promise<FakeSmtpServer> {
  const host = o.host ?? '127.0.0.1';
  const sockets = new Set<Socket>();
  const state: FakeSmtpServer = { host, port: 0, commands: [], messages: [], connections: 0, close: async () => undefined };
  const server: Server = createServer((sock) => {
    state.connections++;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    if (o.raw) {
      o.raw(sock);
      return;
    }
    void dialogue(sock, o, state, sockets);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => resolve());
  });
  const addr = server.address();
  (state as { port: number }).port = typeof addr === 'object' && addr ? addr.port : 0;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  t?.after(() => state.close());
  return state;
}

async function dialogue(plain: Socket, o: FakeSmtpOptions, st: FakeSmtpServer, sockets: Set<Socket>): Promise<void> {
  let sock: Socket = plain;
  let buf = '';
  let waiting: ((l: string | undefined) => void) | undefined;
  const lines: string[] = [];
  let ended = false;
  const onData = (d: Buffer): void => {
    buf += d.toString('latin1');
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i).replace(/\r$/, ''));
      buf = buf.slice(i + 1);
    }
    flush();
  };
  const flush = (): void => {
    if (waiting && (lines.length > 0 || ended)) {
      const w = waiting;
      waiting = undefined;
      w(lines.shift());
    }
  };
  const attach = (s: Socket): void => {
    s.on('data', onData);
    s.on('end', () => {
      ended = true;
      flush();
    });
    s.on('close', () => {
      ended = true;
      flush();
    });
  };
  attach(sock);
  const next = (): Promise<string | undefined> =>
    new Promise((r) => {
      waiting = r;
      flush();
    });
  const write = (text: string): void => {
    if (!sock.destroyed) sock.write(text.split('\n').map((l) => `${l}\r\n`).join(''));
  };
  const conn: FakeConn = { write, nextLine: async () => (await next()) ?? '' };
  /** Sends a hook's answer; returns false when the dialogue ends. */
  const respond = (r: HookResult, def: string): boolean => {
    if (r === 'close') {
      sock.destroy();
      return false;
    }
    if (r === 'stall') return false;
    write(r ?? def);
    return true;
  };

  if (!respond(o.greeting, '220 fake.test ESMTP')) return;
  let msg: ReceivedMessage | undefined;
  for (;;) {
    const line = await next();
    if (line === undefined) return;
    st.commands.push(line);
    const verb = line.split(/[\s:]/)[0]!.toUpperCase();
    const args = line.slice(verb.length).trim();
    let go = true;
    switch (verb) {
      case 'EHLO': {
        const kw = o.keywords ?? ['PIPELINING', 'SIZE 10240000', '8BITMIME', 'DSN', 'SMTPUTF8'];
        const tlsKw = o.starttls !== undefined && !(sock instanceof TLSSocket) ? ['STARTTLS'] : [];
        const all = ['fake.test', ...kw, ...tlsKw];
        go = respond(o.ehlo?.(args), all.map((k, i) => `250${i === all.length - 1 ? ' ' : '-'}${k}`).join('\n'));
        break;
      }
      case 'HELO':
        go = respond(o.helo?.(args), '250 fake.test');
        break;
      case 'STARTTLS':
        if (o.starttls === 'broken') {
          write('220 2.0.0 Ready to start TLS');
          sock.write('this is not a TLS server hello\r\n');
          setTimeout(() => sock.destroy(), 50);
          return;
        }
        if (o.starttls === 'ok' && o.tls) {
          write('220 2.0.0 Ready to start TLS');
          sock.removeListener('data', onData);
          const ts = new TLSSocket(sock, { isServer: true, key: o.tls.key, cert: o.tls.cert });
          ts.on('error', () => undefined);
          sockets.add(ts);
          sock = ts;
          attach(ts);
          break;
        }
        go = respond(o.starttls, '454 4.7.0 TLS not available');
        break;
      case 'AUTH':
        go = respond(o.auth ? await o.auth(args, conn) : undefined, '235 2.7.0 Authentication successful');
        break;
      case 'MAIL': {
        const m = /^FROM:\s*<([^>]*)>\s*(.*)$/i.exec(args);
        msg = { from: m?.[1] ?? '', mailArgs: m?.[2] ?? '', to: [], rcptArgs: [], data: '' };
        go = respond(o.mail?.(args), '250 2.1.0 Ok');
        break;
      }
      case 'RCPT': {
        const m = /^TO:\s*<([^>]*)>\s*(.*)$/i.exec(args);
        const r = o.rcpt?.(args);
        if ((r === undefined || r.startsWith('2')) && msg) {
          msg.to.push(m?.[1] ?? '');
          msg.rcptArgs.push(m?.[2] ?? '');
        }
        go = respond(r, '250 2.1.5 Ok');
        break;
      }
      case 'DATA': {
        if (!msg || msg.to.length === 0) {
          go = respond(undefined, '554 5.5.1 Error: no valid recipients');
          break;
        }
        const r = o.data?.();
        if (r !== undefined) {
          go = respond(r, '');
          break;
        }
        write('354 End data with <CR><LF>.<CR><LF>');
        const body: string[] = [];
        for (;;) {
          const l = await next();
          if (l === undefined) return;
          if (l === '.') break;
          body.push(l.startsWith('.') ? l.slice(1) : l);
        }
        msg.data = body.map((l) => `${l}\r\n`).join('');
        st.messages.push(msg);
        go = respond(o.dot?.(msg), '250 2.0.0 Ok: queued as FAKE');
        msg = undefined;
        break;
      }
      case 'RSET':
        msg = undefined;
        go = respond(undefined, '250 2.0.0 Ok');
        break;
      case 'NOOP':
        go = respond(undefined, '250 2.0.0 Ok');
        break;
      case 'QUIT':
        write('221 2.0.0 Bye');
        sock.end();
        return;
      default:
        go = respond(undefined, '502 5.5.2 Error: command not recognized');
    }
    if (!go) return;
  }
}

/**
 * Postfix's smtp-sink on addr:port with extra arguments, stopped when the test ends; as root it runs
 * as `user`. Resolves once it accepts connections (tries for 5 s).
 */
export async function startRealSmtpSink(t: TestContext, addr: string, port: number, args: readonly string[] = [], user = 'nobody'): Promise<void> {
  const isRoot = process.getuid?.() === 0;
  const child = spawn('/usr/sbin/smtp-sink', [...(isRoot ? ['-u', user] : []), ...args, `${addr}:${port}`, '100'], { stdio: 'ignore' });
  t.after(() => {
    child.kill('SIGTERM');
  });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((r) => {
      const s = connect(port, addr);
      s.once('connect', () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('smtp-sink did not start');
}
