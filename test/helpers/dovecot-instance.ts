/*
 * A throw-away Dovecot 2.3 for interop tests: a private dovecot.conf, one mail user with a maildir,
 * and ways to run `doveadm` and the `imap` binary (pre-authenticated, IMAP on stdin/stdout) against
 * it. Nothing is started as a daemon and /etc/dovecot is never read: every program gets `-c CONF`.
 *
 * How it avoids needing the auth service: the mail programs are run with USER, HOME and MAIL in the
 * environment, which Dovecot's mail-storage-service takes as the userdb reply when no auth socket is
 * asked for (doveadm without `-u`, imap without `-u`). The passwd-file is still written so a test
 * that starts a full `dovecot -c CONF` has a working passdb/userdb.
 *
 * Dovecot refuses mail access as root (uid/gid 0). When the tests run as root the instance uses
 * uid/gid 65534 (nobody/nogroup), makes the tree traversable and hands it to that user.
 *
 * Outputs are Buffers: message bytes are 8-bit and must not go through a UTF-8 decoder.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { tempDir } from './tmp.js';

export const DOVEADM = '/usr/bin/doveadm';
export const DOVECOT_IMAP = '/usr/lib/dovecot/imap';

export interface DovecotRun {
  status: number;
  stdout: Buffer;
  stderr: string;
}

export interface DovecotInstance {
  /** Temporary directory holding everything (removed when the test ends). */
  readonly dir: string;
  /** Path of the generated dovecot.conf. */
  readonly conf: string;
  readonly user: string;
  readonly password: string;
  readonly home: string;
  /** The INBOX maildir (has cur/, new/, tmp/). */
  readonly maildir: string;
  readonly uid: number;
  readonly gid: number;
  /** Runs `doveadm -c CONF <args>` as the mail user. */
  doveadm(args: string[], input?: Buffer | string): DovecotRun;
  /** Runs the imap binary pre-authenticated; `script` is the client side (CRLF line ends). */
  imap(script: Buffer | string): DovecotRun;
  /**
   * Puts messages into INBOX as maildir files (bytes unchanged, so LF-only and broken files stay as
   * they are), named `<base>:2,` in cur/. The base name becomes the X-GUID (`doveadm fetch guid`).
   * Dovecot assigns UIDs on its next sync; use guid to map back.
   */
  addMessages(messages: { base: string; bytes: Buffer }[]): void;
}

export interface DovecotOptions {
  user?: string;
  password?: string;
  /** Extra dovecot.conf text appended at the end. */
  extraConf?: string;
  /** Timeout per program run, ms. */
  timeoutMs?: number;
}

/** Creates the instance in a fresh temp dir tied to `t`. */
export function createDovecotInstance(t: TestContext | undefined, opts: DovecotOptions = {}): DovecotInstance {
  const dir = tempDir(t, 'postern-dovecot-');
  const user = opts.user ?? 'u1';
  const password = opts.password ?? 'secret';
  const timeout = opts.timeoutMs ?? 60_000;
  const asRoot = process.getuid?.() === 0;
  const uid = asRoot ? 65534 : (process.getuid?.() ?? 1000);
  const gid = asRoot ? 65534 : (process.getgid?.() ?? 1000);
  const home = join(dir, 'home', user);
  const maildir = join(home, 'Maildir');
  for (const d of ['run', 'state', 'log', home, maildir, join(maildir, 'cur'), join(maildir, 'new'), join(maildir, 'tmp')]) {
    mkdirSync(d.startsWith('/') ? d : join(dir, d), { recursive: true });
  }
  const conf = join(dir, 'dovecot.conf');
  const passwd = join(dir, 'passwd');
  writeFileSync(passwd, `${user}:{PLAIN}${password}:${uid}:${gid}::${home}::\n`);
  writeFileSync(
    conf,
    [
      `base_dir = ${dir}/run`,
      `state_dir = ${dir}/state`,
      `log_path = ${dir}/log/dovecot.log`,
      `info_log_path = ${dir}/log/dovecot.log`,
      'ssl = no',
      'protocols = imap',
      `first_valid_uid = ${Math.min(uid, 500)}`,
      `first_valid_gid = ${Math.min(gid, 500)}`,
      `mail_uid = ${uid}`,
      `mail_gid = ${gid}`,
      `mail_location = maildir:${dir}/home/%u/Maildir`,
      'passdb {',
      '  driver = passwd-file',
      `  args = ${passwd}`,
      '}',
      'userdb {',
      '  driver = passwd-file',
      `  args = ${passwd}`,
      '}',
      opts.extraConf ?? '',
      '',
    ].join('\n'),
  );
  if (asRoot) {
    chmodSync(dir, 0o755);
    chownTree(join(dir, 'home'), uid, gid);
    chownTree(join(dir, 'log'), uid, gid);
  }
  const env: NodeJS.ProcessEnv = {
    PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
    USER: user,
    HOME: home,
    MAIL: `maildir:${maildir}`,
  };
  // stdout is a file, not a pipe: libuv's pipes are socketpairs, and the imap binary (run as root)
  // takes a socket on stdout for an inetd start and refuses ("use imap-login instead"). stdin must
  // stay a pipe (Dovecot puts it in epoll, which a regular file does not support).
  let runs = 0;
  const exec = (cmd: string, args: string[], input: Buffer | string | undefined): DovecotRun => {
    const outputPath = join(dir, `stdout.${runs++}`);
    const out = openSync(outputPath, 'w+');
    try {
      const r = spawnSync(cmd, args, { input: input ?? '', stdio: ['pipe', out, 'pipe'], env, timeout, maxBuffer: 64 * 1024 * 1024 });
      if (r.error) throw r.error;
      return { status: r.status ?? -1, stdout: readFileSync(outputPath), stderr: r.stderr.toString('utf8') };
    } finally {
      closeSync(out);
      unlinkSync(outputPath);
    }
  };
  return {
    dir,
    conf,
    user,
    password,
    home,
    maildir,
    uid,
    gid,
    doveadm: (args, input) => exec(DOVEADM, ['-c', conf, ...args], input),
    imap: (script) => exec(DOVECOT_IMAP, ['-c', conf], script),
    addMessages(messages) {
      for (const m of messages) {
        const p = join(maildir, 'cur', `${m.base}:2,`);
        writeFileSync(p, m.bytes);
        if (asRoot) chownSync(p, uid, gid);
      }
    },
  };
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const e of readdirSync(path)) chownTree(join(path, e), uid, gid);
}

/**
 * Splits `doveadm fetch` output (the default "flow"-less pager format: `field: value` lines, with
 * a form feed line between messages) into one record per message. Multi-line values (bodies,
 * headers) keep their line breaks; the value of a field runs until the next known field name.
 */
export function parseDoveadmFetch(out: Buffer, fields: string[]): Record<string, string>[] {
  const text = out.toString('latin1');
  const records: Record<string, string>[] = [];
  for (const chunk of text.split('\f\n')) {
    if (chunk.trim() === '') continue;
    const rec: Record<string, string> = {};
    let cur: string | undefined;
    for (const line of chunk.split('\n')) {
      const m = /^([a-z0-9.]+):(?: (.*))?$/.exec(line);
      if (m && fields.includes(m[1]!)) {
        cur = m[1]!;
        rec[cur] = m[2] ?? '';
      } else if (cur !== undefined) {
        rec[cur] += `\n${line}`;
      }
    }
    records.push(rec);
  }
  return records;
}
