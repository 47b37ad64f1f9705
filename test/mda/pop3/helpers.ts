/*
 * Helpers for the POP3 tests: a user database and mail store in a temp dir, the corpus, an in-memory transport
 * for state-machine tests, a log collector, and a small socket client that reads POP3 replies byte-exactly.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { AuthService } from '../../../mda/auth/auth-service.js';
import { parsePasswdFileArgs, passwdFilePassdb, passwdFileUserdb } from '../../../mda/auth/passwd-file.js';
import { authSettingsFromText } from '../../../mda/auth/settings.js';
import { authServicePop3Auth, type Pop3Auth } from '../../../mda/pop3/auth.js';
import type { Pop3Io } from '../../../mda/pop3/io.js';
import { Pop3Session, type Pop3SessionDeps } from '../../../mda/pop3/session.js';
import { inProcessSessionLocks } from '../../../mda/pop3/session-lock.js';
import { pop3SettingsFromText, type Pop3Settings } from '../../../mda/pop3/settings.js';
import { userStoreOpener } from '../../../mda/mail-user.js';
import type { DovecotLog } from '../../../shared/log/logger.js';
import { openMailStore, type MailStore } from '../../../mda/storage/api.js';
import { tempDir } from '../../helpers/tmp.js';

export const CORPUS = '/work/shared/corpus';

export interface CorpusEntry {
  file: string;
  eol: string;
  size: number;
  crlfSize: number;
  category: string;
}

export function corpus(): CorpusEntry[] {
  return (JSON.parse(readFileSync(join(CORPUS, 'manifest.json'), 'utf8')) as { messages: CorpusEntry[] }).messages;
}

export function corpusBytes(name: string): Buffer {
  const e = corpus().find((m) => m.file.includes(name));
  if (e === undefined) throw new Error(`no corpus file ${name}`);
  return readFileSync(join(CORPUS, e.file));
}

export interface LogCollector {
  lines: string[];
  factory: (prefix: string) => DovecotLog;
}

export function logCollector(): LogCollector {
  const lines: string[] = [];
  const mk = (prefix: string, level: string) => (text: string) => lines.push(`${prefix}: ${level}: ${text}`);
  return {
    lines,
    factory: (prefix) => ({
      debug: mk(prefix, 'Debug'), info: mk(prefix, 'Info'), warn: mk(prefix, 'Warning'), error: mk(prefix, 'Error'), fatal: mk(prefix, 'Fatal'),
    }),
  };
}

export interface Env {
  dir: string;
  auth: AuthService;
  deps: Pop3SessionDeps;
  log: LogCollector;
  /** alice's store (the same maildir the POP3 sessions see). */
  store(user?: string): Promise<MailStore>;
  maildir(user?: string): string;
}

export interface EnvOptions {
  settings?: Partial<Record<keyof Pop3Settings, string>>;
  authMechanisms?: string;
  tlsAvailable?: boolean;
}

/** Users alice/secret and bob/hunter2 ({PLAIN}), carol with a SHA512-CRYPT hash of "secret". */
export function makeEnv(t: TestContext, opts: EnvOptions = {}): Env {
  const dir = tempDir(t, 'postern-pop3-');
  const uid = process.getuid?.() ?? 1000;
  const gid = process.getgid?.() ?? 1000;
  const passwd = join(dir, 'passwd');
  writeFileSync(passwd, [
    `alice:{PLAIN}secret:${uid}:${gid}::${dir}/home/alice::`,
    `bob:{PLAIN}hunter2:${uid}:${gid}::${dir}/home/bob::`,
    `carol:{SHA512-CRYPT}$6$0123456789abcdef$X:${uid}:${gid}::${dir}/home/carol::`,
    '',
  ].join('\n'));
  for (const u of ['alice', 'bob', 'carol']) mkdirSync(join(dir, 'home', u), { recursive: true });
  const args = parsePasswdFileArgs(passwd);
  const auth = new AuthService({
    settings: authSettingsFromText({ auth_failure_delay: '0', auth_mechanisms: opts.authMechanisms ?? 'plain login' }),
    passdbs: [{ db: passwdFilePassdb(args) }],
    userdbs: [{ db: passwdFileUserdb(args) }],
  });
  const log = logCollector();
  const settings = pop3SettingsFromText({ login_greeting: 'Dovecot (Debian) ready.', ...opts.settings });
  const deps: Pop3SessionDeps = {
    settings,
    auth: authServicePop3Auth(auth),
    openStore: userStoreOpener(auth, { mailLocation: 'maildir:~/Maildir', hostname: 'testhost' }),
    locks: inProcessSessionLocks(),
    log: log.factory,
    tlsAvailable: opts.tlsAvailable ?? false,
    hostname: 'mail.example',
    pid: 4242,
  };
  const stores: MailStore[] = [];
  t.after(async () => {
    for (const s of stores) await s.close();
  });
  return {
    dir, auth, deps, log,
    maildir: (user = 'alice') => join(dir, 'home', user, 'Maildir'),
    async store(user = 'alice') {
      const s = await openMailStore({ mailLocation: `maildir:${join(dir, 'home', user, 'Maildir')}`, user, home: join(dir, 'home', user), hostname: 'testhost' });
      stores.push(s);
      return s;
    },
  };
}

/** An authenticator that logs every PLAIN attempt in as `user` (the session starts already trusted). */
export function loggedInAuth(user: string): Pop3Auth {
  return {
    mechanisms: () => [{ name: 'PLAIN', plaintext: true }],
    start: () => ({ step: async () => ({ kind: 'done', outcome: { kind: 'ok', user, passdbExtra: [] } }) }),
    apopEnabled: false,
    apop: async () => ({ kind: 'fail', temp: false, nodelay: false }),
    failureDelayMs: 0,
  };
}

/** An in-memory transport: everything written, closed flag, STLS counter. */
export interface MemIo extends Pop3Io {
  out: Buffer[];
  closed: boolean;
  tlsStarted: number;
  /** Output since the last take(), as latin1 text. */
  take(): string;
}

export function memIo(): MemIo {
  let mark = 0;
  const io: MemIo = {
    out: [],
    closed: false,
    tlsStarted: 0,
    write: async (d) => {
      io.out.push(Buffer.from(d));
    },
    startTls: async () => {
      io.tlsStarted++;
    },
    close: () => {
      io.closed = true;
    },
    take() {
      const all = Buffer.concat(io.out).toString('latin1');
      const r = all.slice(mark);
      mark = all.length;
      return r;
    },
  };
  return io;
}

/** A session over memIo; `rip` different from lip makes the peer insecure. */
export function memSession(env: Env, conn: { rip?: string; tls?: boolean } = {}): { s: Pop3Session; io: MemIo; send: (line: string) => Promise<string> } {
  const io = memIo();
  const s = new Pop3Session(env.deps, { rip: conn.rip ?? '127.0.0.1', lip: '127.0.0.1', rport: 40000, lport: 110, tls: conn.tls ?? false }, io);
  return {
    s,
    io,
    send: async (line: string) => {
      await s.handleLine(Buffer.from(line, 'latin1'));
      return io.take();
    },
  };
}

/** A byte-exact POP3 client over a socket. */
export class Pop3Client {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  ended = false;

  private constructor(public socket: Socket | TLSSocket) {
    this.listen(socket);
  }

  private listen(socket: Socket | TLSSocket): void {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  static async connect(port: number, opts: { host?: string; localAddress?: string; tls?: boolean } = {}): Promise<Pop3Client> {
    const host = opts.host ?? '127.0.0.1';
    const socket: Socket | TLSSocket = await new Promise((resolve, reject) => {
      if (opts.tls) {
        const s = tlsConnect({ host, port, rejectUnauthorized: false, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) }, () => resolve(s));
        s.once('error', reject);
      } else {
        const s = connect({ host, port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) }, () => resolve(s));
        s.once('error', reject);
      }
    });
    return new Pop3Client(socket);
  }

  /** Waits until the buffered data satisfies `done` (returns the number of bytes to take) or the peer closed. */
  private async until(done: (b: Buffer) => number, timeoutMs = 10_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const n = done(this.buf);
      if (n > 0) {
        const r = this.buf.subarray(0, n);
        this.buf = this.buf.subarray(n);
        return Buffer.from(r);
      }
      if (this.ended) {
        const r = this.buf;
        this.buf = Buffer.alloc(0);
        return r;
      }
      if (Date.now() > deadline) throw new Error(`timeout waiting for reply; have ${JSON.stringify(this.buf.toString('latin1'))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** One line (without CRLF). */
  async line(): Promise<string> {
    const b = await this.until((x) => {
      const i = x.indexOf('\r\n');
      return i < 0 ? 0 : i + 2;
    });
    return b.toString('latin1').replace(/\r\n$/, '');
  }

  /** A multi-line reply through the terminating ".\r\n", raw. */
  async multi(): Promise<Buffer> {
    return this.until((x) => {
      if (x.subarray(0, 4).toString() === '-ERR') {
        const i = x.indexOf('\r\n');
        return i < 0 ? 0 : i + 2;
      }
      if (x.length >= 3 && x.subarray(0, 3).toString() === '.\r\n') return 3;
      const i = x.indexOf('\r\n.\r\n');
      return i < 0 ? 0 : i + 5;
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  async cmd(line: string): Promise<string> {
    this.write(`${line}\r\n`);
    return this.line();
  }

  async cmdMulti(line: string): Promise<Buffer> {
    this.write(`${line}\r\n`);
    return this.multi();
  }

  /** Everything until the server closes. */
  async rest(): Promise<string> {
    return (await this.until(() => 0)).toString('latin1');
  }

  async startTls(): Promise<void> {
    const raw = this.socket;
    raw.removeAllListeners('data');
    const s = await new Promise<TLSSocket>((resolve, reject) => {
      const t = tlsConnect({ socket: raw as Socket, rejectUnauthorized: false }, () => resolve(t));
      t.once('error', reject);
    });
    this.socket = s;
    this.listen(s);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** What Dovecot sends for a stored message (independent of the server code): CRLF, dot-stuffed, CRLF-terminated. */
export function expectedRetr(raw: Buffer): Buffer {
  const crlf = Buffer.from(raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
  let text = crlf.toString('latin1');
  text = text.replace(/\r\n\./g, '\r\n..');
  if (!text.endsWith('\r\n')) text += '\r\n';
  return Buffer.from(text, 'latin1');
}
