/*
 * IMAP warm-up: as it starts, a process that will serve IMAP sessions (the daemon's own, or each
 * session shard) runs one session of its own through the real code (socket, parser, dispatch,
 * commands, storage, the message parser, the formatter) on a scratch maildir, so Node's JIT has
 * compiled the hot paths before the first clients come. Measured with the bench's IMAP workload
 * at 100 clients, twelve fresh starts each way (docs/performance.md, "Sixteenth session"): the
 * median p99 of the first 5 s after a start fell from 615 to 516 ms and those seconds served 38 %
 * more commands. Dovecot, in C, has nothing to warm.
 *
 * The session is a Unix socket pair inside a private temporary directory (mkdtemp, mode 0700), as
 * the process's own uid. It logs nothing (a silent logger: no Login or Logged out lines for log
 * tooling to count; with mail_debug the caller logs one Debug line of the result), registers
 * nowhere (`doveadm who` does not see it) and asks no userdb. The directory is removed afterwards.
 * It is bounded by time and by rounds, runs beside any real session that arrives meanwhile, and a
 * failure only ends it early: it is an optimisation, never a condition for serving.
 * Setting: postern_imap_warmup (mda/settings.ts); callers: worker/main.ts (session shards) and
 * main.ts (sessions served in the daemon's own process).
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive } from '../../shared/fs/pid.js';
import type { DovecotLog } from '../../shared/log/logger.js';
import { AuthService } from '../auth/auth-service.js';
import type { AuthSettings } from '../auth/settings.js';
import { openMailStore, type MailStore } from '../storage/api.js';
import { storeHandle } from '../mail-user.js';
import { ImapConnection } from './connection.js';
import type { ImapSettings } from './settings.js';

export interface WarmUpOptions {
  readonly imap: ImapSettings;
  readonly auth: AuthSettings;
  /** Stop starting rounds after this long. */
  readonly maxMs: number;
  /** Default WARM_UP_ROUNDS. */
  readonly maxRounds?: number;
}

export interface WarmUpResult {
  readonly commands: number;
  /** Commands not answered OK (none, unless something is wrong: the warm-up would warm error paths). */
  readonly failed: number;
  readonly ms: number;
}

/** Scratch directories are `<tmpdir>/postern-warmup-<pid>-XXXXXX` (removeOrphans). */
const PREFIX = 'postern-warmup-';

/** A command not answered in this long ends the warm-up. */
const COMMAND_TIMEOUT_MS = 10_000;

/** Rounds at most (about 20 commands each): past this the code is as warm as the clients will make it. */
export const WARM_UP_ROUNDS = 200;

const silent: DovecotLog = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, fatal: () => undefined };

const WORDS = ['planning', 'meeting', 'report', 'budget', 'review', 'release', 'invoice', 'travel'];

/** Messages of the shapes a mailbox holds: plain, alternative, attachment, encoded words, forwarded. */
function sampleMessage(i: number): string {
  const w = WORDS[i % WORDS.length]!;
  const head = [
    `From: "Sender ${i}" <sender${i}@example.com>`,
    `To: user@example.org, "Other" <other${i % 3}@example.net>`,
    i % 4 === 0 ? `Subject: =?UTF-8?B?${Buffer.from(`Über ${w} ${i}`).toString('base64')}?=` : `Subject: ${w} ${i}`,
    `Date: Mon, ${1 + (i % 28)} Jan 2024 10:${String(i % 60).padStart(2, '0')}:00 +0100`,
    `Message-ID: <warm-${i}@example.com>`,
    ...(i > 0 ? [`In-Reply-To: <warm-${i - 1}@example.com>`, `References: <warm-${Math.max(0, i - 2)}@example.com> <warm-${i - 1}@example.com>`] : []),
    'MIME-Version: 1.0',
  ];
  const text = `Hello,\r\n\r\nabout the ${w}: line ${i}.\r\n`.repeat(1 + (i % 5));
  switch (i % 5) {
    case 0:
      return [...head, 'Content-Type: text/plain; charset=utf-8', '', text].join('\r\n');
    case 1:
      return [...head, 'Content-Type: multipart/alternative; boundary="b1"', '', '--b1', 'Content-Type: text/plain; charset=us-ascii', '', text,
        '--b1', 'Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable', '', `<p>${w} =C3=BC ${i}</p>`, '--b1--', ''].join('\r\n');
    case 2:
      return [...head, 'Content-Type: multipart/mixed; boundary="b2"', '', '--b2', 'Content-Type: text/plain', '', text,
        '--b2', `Content-Type: application/pdf; name="${w}.pdf"`, 'Content-Transfer-Encoding: base64', `Content-Disposition: attachment; filename="${w}.pdf"`, '',
        Buffer.alloc(600 + i * 7, i).toString('base64').replace(/(.{76})/g, '$1\r\n'), '--b2--', ''].join('\r\n');
    case 3:
      return [...head, 'Content-Type: multipart/mixed; boundary="b3"', '', '--b3', 'Content-Type: text/plain', '', text,
        '--b3', 'Content-Type: message/rfc822', '', `From: inner${i}@example.com`, `Subject: Fwd: ${w}`, '', 'inner body', '--b3--', ''].join('\r\n');
    default:
      return [...head, 'Content-Type: text/plain; charset=iso-8859-1', 'Content-Transfer-Encoding: quoted-printable', '', `caf=E9 ${w} ${i}\r\n${text}`].join('\r\n');
  }
}

/** The client end: sends a command and waits for its tagged reply (or the `+` of IDLE). */
class Driver {
  private buf = '';
  private want: { readonly mark: string; readonly resolve: () => void } | undefined;
  private closedWith: Error | undefined;
  /** Tagged replies other than OK. */
  failed = 0;

  constructor(private readonly sock: Socket) {
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.buf += d;
      this.check();
    });
    sock.on('close', () => {
      this.closedWith = new Error('warm-up session closed');
      this.check();
    });
    sock.on('error', () => undefined);
  }

  private check(): void {
    const w = this.want;
    if (w === undefined) return;
    const at = this.buf.startsWith(w.mark) ? 0 : this.buf.indexOf(`\r\n${w.mark}`);
    if (at >= 0) {
      const start = at === 0 ? 0 : at + 2;
      const end = this.buf.indexOf('\r\n', start);
      if (end < 0) return;
      if (!w.mark.startsWith('+') && !this.buf.startsWith(`${w.mark}OK`, start)) this.failed++;
      this.buf = this.buf.slice(end + 2);
      this.want = undefined;
      w.resolve();
    } else if (this.closedWith !== undefined) {
      this.want = undefined;
      w.resolve();
    }
  }

  private wait(mark: string): Promise<void> {
    return new Promise<void>((resolve) => {
      // A reply that never comes ends the warm-up (the socket's close settles the wait).
      const timer = setTimeout(() => {
        this.closedWith ??= new Error('warm-up command timed out');
        this.sock.destroy();
      }, COMMAND_TIMEOUT_MS);
      timer.unref();
      this.want = {
        mark,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.check();
    }).then(() => {
      if (this.closedWith !== undefined) throw this.closedWith;
    });
  }

  send(text: string, waitFor: string): Promise<void> {
    this.sock.write(text);
    return this.wait(waitFor);
  }
}

/** One round of what a desktop client does to a busy INBOX (bench/imap-load.ts's mix, and more). */
function* round(r: number, exists: () => number): Generator<readonly [string, string]> {
  const n = Math.max(1, exists());
  const k = 1 + (r * 7) % n;
  const t = (x: string) => `w${r}${x}`;
  const cmd = (tag: string, text: string) => [`${t(tag)} ${text}\r\n`, `${t(tag)} `] as const;
  yield cmd('a', 'SELECT INBOX');
  yield cmd('b', `FETCH ${Math.max(1, n - 19)}:${n} (UID FLAGS ENVELOPE INTERNALDATE RFC822.SIZE)`);
  yield cmd('c', `FETCH ${k} (UID BODY.PEEK[])`);
  yield cmd('d', `UID FETCH 1:* (FLAGS BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE)])`);
  yield cmd('e', `FETCH ${k} (BODY.PEEK[1] BODY.PEEK[TEXT]<0.100> RFC822.HEADER)`);
  yield cmd('f', r % 2 === 0 ? `STORE ${k} +FLAGS (\\Seen)` : `STORE ${k} -FLAGS (\\Flagged)`);
  yield cmd('g', `STORE ${k}:* +FLAGS.SILENT ($Work)`);
  yield cmd('h', `SEARCH ${['UNSEEN', 'FROM "example"', 'SUBJECT "planning"', 'SINCE 1-Jan-2024 NOT DELETED', 'FLAGGED', 'BODY "line"'][r % 6]}`);
  yield cmd('i', 'UID SEARCH OR SEEN KEYWORD $Work');
  const m = sampleMessage(1000 + r);
  yield cmd('j', `APPEND INBOX (\\Seen) {${Buffer.byteLength(m, 'latin1')}+}\r\n${m}`);
  yield cmd('k', `STORE ${n} +FLAGS.SILENT (\\Deleted)`);
  yield cmd('l', 'EXPUNGE');
  yield [`${t('m')} IDLE\r\n`, '+ '];
  yield ['DONE\r\n', `${t('m')} `];
  yield cmd('n', 'NOOP');
  yield cmd('o', 'STATUS INBOX (MESSAGES UNSEEN UIDNEXT)');
  yield cmd('p', 'LIST "" "*"');
  if (r % 4 === 0) yield cmd('q', 'SORT (REVERSE DATE) UTF-8 ALL');
  if (r % 4 === 2) yield cmd('r', 'THREAD REFERENCES UTF-8 ALL');
  if (r % 3 === 0) yield cmd('s', 'EXAMINE INBOX');
}

/**
 * Removes scratch directories of warm-ups whose process is gone without its cleanup (SIGKILL, a
 * crash): `postern-warmup-<pid>-*` of this uid whose pid no longer runs. Another live process's
 * (a concurrent warm-up) is left alone.
 */
function removeOrphans(root: string): void {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return;
  }
  const uid = process.getuid?.();
  for (const e of entries) {
    if (!e.startsWith(PREFIX)) continue;
    const m = /^(\d+)-/.exec(e.slice(PREFIX.length));
    if (m === null) continue;
    try {
      if (uid !== undefined && statSync(join(root, e)).uid !== uid) continue;
    } catch {
      continue; // gone meanwhile
    }
    if (!pidAlive(Number(m[1]))) rmSync(join(root, e), { recursive: true, force: true });
  }
}

/** The mail_debug line of a warm-up's result. */
export function warmUpText(r: WarmUpResult): string {
  return `IMAP warm-up: ${r.commands} commands (${r.failed} failed) in ${r.ms} ms`;
}

/** Runs the warm-up; resolves (never rejects) with what it did. */
export async function warmUpImap(o: WarmUpOptions): Promise<WarmUpResult> {
  const started = Date.now();
  let commands = 0;
  let driver: Driver | undefined;
  let dir: string | undefined;
  const removeOnExit = (): void => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  };
  let store: MailStore | undefined;
  const server = createServer();
  try {
    removeOrphans(tmpdir());
    dir = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-`));
    const home = dir;
    // A stop in the middle (SIGTERM ends a shard with process.exit) must not leave it behind.
    process.once('exit', removeOnExit);
    store = await openMailStore({ mailLocation: `maildir:${join(home, 'Maildir')}`, home, user: 'warm-up', hostname: 'warm-up' });
    for (let i = 0; i < 40; i++) await store.deliver('INBOX', Buffer.from(sampleMessage(i), 'latin1'));
    // The session's close() of its store must not close ours (closed below).
    const sessionStore = storeHandle(store, async () => undefined);
    const path = join(home, 'imap.sock');
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    const client = createConnection(path);
    const socket = await accepted;
    const conn = new ImapConnection(socket, {
      deps: {
        settings: o.imap,
        // No databases: the session never authenticates, and must look up no one.
        auth: new AuthService({ settings: o.auth, passdbs: [], userdbs: [] }),
        openStore: async () => sessionStore,
        log: () => silent,
        tlsConfigured: false,
        claimUserIp: () => () => undefined,
      },
      secureContext: undefined,
      implicitTls: false,
      resumed: { session: 'warm-up', conn: { remoteIp: '127.0.0.1', localIp: '127.0.0.1', remotePort: 0, localPort: 0, tls: false } },
    });
    driver = new Driver(client);
    const loggedIn = driver.send('', 'L ');
    void conn.resume('L', 'warm-up', Buffer.alloc(0));
    await loggedIn;
    // A command not answered OK ends it: the rounds after it would run on a state they were not
    // written for (no mailbox selected, say), warming error paths.
    for (let r = 0; r < (o.maxRounds ?? WARM_UP_ROUNDS) && Date.now() - started < o.maxMs && driver.failed === 0; r++) {
      for (const [text, waitFor] of round(r, () => conn.session.selected?.exists ?? 40)) {
        await driver.send(text, waitFor);
        commands++;
        if (driver.failed > 0) break;
      }
    }
    await driver.send('Z LOGOUT\r\n', 'Z ');
    client.destroy();
    await conn.ended;
  } catch {
    // An optimisation only: whatever stopped it, the process serves as it would have without.
  } finally {
    server.close();
    await store?.close().catch(() => undefined);
    process.removeListener('exit', removeOnExit);
    removeOnExit();
  }
  return { commands, failed: driver?.failed ?? 0, ms: Date.now() - started };
}
