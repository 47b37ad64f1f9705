/*
 * Test harness for the IMAP server: a server on a free loopback port over temporary maildirs, a
 * passwd-file with users u1/u2 (password "secret"), captured log lines, optional self-signed TLS;
 * and a small IMAP client that sends raw lines and collects responses up to the tagged reply
 * (literals in responses are read by their byte count, so message bodies never confuse it).
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { tempDir } from '../../../helpers/tmp.js';
import { AuthService } from '../../../../mda/auth/auth-service.js';
import { authSettingsFromText, type AuthSettings } from '../../../../mda/auth/settings.js';
import { parsePasswdFileArgs, passwdFilePassdb, passwdFileUserdb } from '../../../../mda/auth/passwd-file.js';
import { openMailStore, type MailStore } from '../../../../mda/storage/api.js';
import { leasedStore } from '../../../../mda/mail-user.js';
import { MailStoreCache } from '../../../../mda/store-cache.js';
import { imapSettingsFromText, type AutoMailbox, type ImapSettings } from '../../../../mda/imap/settings.js';
import { startImapServer, type ImapServerHandle } from '../../../../mda/imap/server.js';
import { makeSelfSigned } from '../../../../shared/tls/selfsigned.js';

export interface TestServer {
  readonly dir: string;
  readonly port: number;
  readonly tlsPort: number | undefined;
  readonly server: ImapServerHandle;
  readonly logs: string[];
  /** The maildir root of a user. */
  maildir(user: string): string;
  /** Opens the user's store directly (as LMTP delivery would; from the shared cache with sharedStores). */
  store(user: string): Promise<MailStore>;
  /** How many stores were really opened (with sharedStores, one per user). */
  storesOpened(): number;
}

let cachedCert: { keyPem: string; certPem: string } | undefined;

export async function startTestServer(
  t: TestContext,
  opts: {
    settings?: Partial<Record<Exclude<keyof ImapSettings, 'mailboxes' | 'plugin'>, string>>;
    /** `plugin { }` settings (quota, quota_rule…). */
    plugin?: Record<string, string>;
    /** More passwd-file lines (`name:{PLAIN}secret::::::userdb_x=y`). */
    users?: string[];
    auth?: Partial<Record<keyof AuthSettings, string>>;
    mailboxes?: AutoMailbox[];
    tls?: boolean;
    /**
     * Sessions (and store()) of one user share one store from a MailStoreCache, as in a mail
     * worker (mda/store-cache.ts); otherwise each opens its own, as separate processes do.
     */
    sharedStores?: boolean;
  } = {},
): Promise<TestServer> {
  const dir = tempDir(t, 'postern-imap-');
  const users = join(dir, 'users');
  writeFileSync(users, ['u1:{PLAIN}secret::::::', 'u2:{PLAIN}secret::::::', 'nd:{PLAIN}secret::::::nodelay', ...(opts.users ?? []), ''].join('\n'));
  const args = parsePasswdFileArgs(users);
  const auth = new AuthService({
    settings: authSettingsFromText({ auth_mechanisms: 'plain login', auth_failure_delay: '0', ...opts.auth }),
    passdbs: [{ db: passwdFilePassdb(args) }],
    userdbs: [{ db: passwdFileUserdb(args) }],
  });
  const logs: string[] = [];
  const log = (prefix: string) => {
    const emit = (lvl: string) => (text: string) => logs.push(`${prefix}: ${lvl}: ${text}`);
    return { debug: emit('Debug'), info: emit('Info'), warn: emit('Warning'), error: emit('Error'), fatal: emit('Fatal') };
  };
  const maildir = (user: string) => join(dir, 'home', user, 'Maildir');
  const stores: MailStore[] = [];
  const cache = opts.sharedStores === true ? new MailStoreCache() : undefined;
  let opened = 0;
  const openOwn = async (user: string): Promise<MailStore> => {
    opened++;
    mkdirSync(maildir(user), { recursive: true });
    return openMailStore({ mailLocation: `maildir:${maildir(user)}`, user, home: join(dir, 'home', user), specialUse: Object.fromEntries((opts.mailboxes ?? []).filter((m) => m.specialUse).map((m) => [m.name, m.specialUse!])) });
  };
  const openStore = async (user: string) => {
    const s = cache === undefined
      ? await openOwn(user)
      : leasedStore(await cache.acquire(user, async () => ({ user, home: undefined, location: maildir(user), expand: (x) => x, store: await openOwn(user) })));
    stores.push(s);
    return s;
  };
  let tls;
  if (opts.tls) {
    cachedCert ??= makeSelfSigned({ commonName: 'localhost', bits: 2048 });
    tls = { key: [cachedCert.keyPem], cert: [cachedCert.certPem] };
  }
  // The tests were written against upstream Dovecot's greeting; the table's default is Debian's.
  const settings = imapSettingsFromText({ login_greeting: 'Dovecot ready.', ssl: opts.tls ? 'yes' : 'no', ...opts.settings }, opts.mailboxes ?? [], opts.plugin);
  const server = await startImapServer({
    settings,
    listeners: [
      { name: 'imap', address: '127.0.0.1', port: 0, ssl: false },
      ...(opts.tls ? [{ name: 'imaps', address: '127.0.0.1', port: 0, ssl: true }] : []),
    ],
    auth,
    openStore,
    log,
    ...(tls ? { tls } : {}),
  });
  t.after(async () => {
    await server.close();
    for (const s of stores) await s.close().catch(() => undefined);
  });
  return {
    dir,
    port: server.addresses[0]!.port,
    tlsPort: server.addresses[1]?.port,
    server,
    logs,
    maildir,
    store: openStore,
    storesOpened: () => opened,
  };
}

/** A line-oriented IMAP client for tests. Responses are byte strings (latin1). */
export class TestClient {
  private buf = '';
  private waiters: (() => void)[] = [];
  closed = false;
  greeting = '';

  private constructor(public socket: Socket) {
    this.attach(socket);
  }

  private attach(socket: Socket): void {
    socket.on('data', (d: Buffer) => {
      this.buf += d.toString('latin1');
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  static async connect(port: number, opts: { tls?: boolean; host?: string; localAddress?: string } = {}): Promise<TestClient> {
    const host = opts.host ?? '127.0.0.1';
    const sock: Socket = opts.tls
      ? tlsConnect({ port, host, rejectUnauthorized: false })
      : connect({ port, host, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
    await new Promise<void>((resolve, reject) => {
      sock.once(opts.tls ? 'secureConnect' : 'connect', () => resolve());
      sock.once('error', reject);
    });
    const c = new TestClient(sock);
    c.greeting = await c.line();
    return c;
  }

  /** Upgrades to TLS after a STARTTLS OK. */
  async startTls(): Promise<void> {
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    const t = tlsConnect({ socket: this.socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      t.once('secureConnect', () => resolve());
      t.once('error', reject);
    });
    this.socket = t;
    this.attach(t);
  }

  private async more(timeoutMs: number): Promise<void> {
    if (this.closed) throw new Error(`connection closed; buffer: ${JSON.stringify(this.buf)}`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timeout waiting for server; buffer: ${JSON.stringify(this.buf.slice(0, 2000))}`)), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** One response line, with any literals it announces appended (`{n}\r\n<n bytes>`). */
  async line(timeoutMs = 10_000): Promise<string> {
    let pos = 0;
    for (;;) {
      const nl = this.buf.indexOf('\r\n', pos);
      if (nl < 0) {
        await this.more(timeoutMs);
        continue;
      }
      const m = /~?\{([0-9]+)\}$/.exec(this.buf.slice(pos, nl));
      if (m) {
        const need = nl + 2 + Number(m[1]);
        if (this.buf.length < need) {
          await this.more(timeoutMs);
          continue;
        }
        pos = need;
        continue;
      }
      const out = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 2);
      return out;
    }
  }

  send(text: string): void {
    this.socket.write(Buffer.from(text, 'latin1'));
  }

  /** Sends `tag text` and returns every line up to and including the tagged one. */
  async cmd(tag: string, text: string, timeoutMs = 10_000): Promise<string[]> {
    this.send(`${tag} ${text}\r\n`);
    return this.until(tag, timeoutMs);
  }

  async until(tag: string, timeoutMs = 10_000): Promise<string[]> {
    const out: string[] = [];
    for (;;) {
      const l = await this.line(timeoutMs);
      out.push(l);
      if (l.startsWith(`${tag} `)) return out;
    }
  }

  async login(user = 'u1'): Promise<void> {
    const r = await this.cmd('L0', `LOGIN ${user} secret`);
    if (!r.at(-1)!.startsWith('L0 OK')) throw new Error(`login failed: ${r.join('\n')}`);
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > end) throw new Error('not closed');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Strips Dovecot's timing suffix: "Fetch completed (0.001 + 0.000 secs)." → "Fetch completed." */
export function untimed(line: string): string {
  return line.replace(/ \([0-9.]+ \+ [0-9.]+(?: \+ [0-9.]+)? secs\)\.$/, '.');
}

/** A message with CRLF line ends. */
export function msg(subject: string, body = 'hello\r\n', extra = ''): string {
  return `From: A <a@example.org>\r\nTo: B <b@example.org>\r\nSubject: ${subject}\r\nDate: Mon, 05 Feb 2024 12:42:32 +0000\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.org>\r\n${extra}\r\n${body}`;
}
