/*
 * The e2e suite's only source of configuration: copies conf/examples/ into a temporary directory
 * and rewrites what differs between a real host and a test box, nothing else:
 *   paths    /etc/postfix, /etc/dovecot, /var/spool/postfix, /var/vmail, the TLS files (a fresh
 *            self-signed pair for mail.example.com), and the state paths the examples leave at
 *            their defaults (queue_directory, data_directory, maillog_file and its allowed
 *            prefix, base_dir, state_dir, log_path);
 *   ports    smtp/submission/submissions in master.cf and the IMAP/POP3 inet_listeners become
 *            127.0.0.1:<free port>; `inet_interfaces`/`listen` become 127.0.0.1;
 *   accounts the `vmail` account (which a test box does not have) becomes nobody/nogroup (65534).
 * Every rewrite is a whole-token replacement of text that must be present: if an example changes
 * so that a rewrite no longer applies, prepare() throws instead of silently testing something else.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { freePort } from '../helpers/free-port.js';
import { makeTraversable } from '../helpers/postfix-instance.js';
import { tempDir } from '../helpers/tmp.js';

export const TOP = fileURLToPath(new URL('../../../', import.meta.url));
export const EXAMPLES = join(TOP, 'conf', 'examples');

/** The example users' passwords (conf/examples/dovecot/users says so in its header). */
export const EXAMPLE_PASSWORDS: Readonly<Record<string, string>> = {
  'alice@example.com': 'alice-example-pw',
  'bob@example.com': 'bob-example-pw',
  'carol@example.org': 'carol-example-pw',
};

export interface Ports {
  smtp: number;
  submission: number;
  submissions: number;
  imap: number;
  imaps: number;
  pop3: number;
  pop3s: number;
}

export interface ExampleSetup {
  readonly root: string;
  /** Postfix config_directory (main.cf, master.cf, vmailbox, virtual). */
  readonly postfixDir: string;
  /** queue_directory; the MDA's Postfix-facing sockets are in its private/. */
  readonly spool: string;
  readonly maillog: string;
  readonly dovecotConf: string;
  readonly dovecotLog: string;
  readonly vmail: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly ports: Ports;
  /** The uid/gid mail is stored as (vmail → nobody). */
  readonly mailUid: number;
  readonly mailGid: number;
  readonly lmtpSocket: string;
  readonly authSocket: string;
}

/** Replaces every occurrence of `from` (which must occur) with `to`. */
function must(text: string, from: string | RegExp, to: string, file: string): string {
  const hit = typeof from === 'string' ? text.includes(from) : from.test(text);
  if (!hit) throw new Error(`config-rewrite: ${String(from)} not found in ${file}: the example changed`);
  return typeof from === 'string' ? text.replaceAll(from, to) : text.replace(from, to);
}

function rewriteMain(text: string, s: { root: string; spool: string; cert: string; key: string; maillog: string }): string {
  const f = 'main.cf';
  let t = must(text, '/etc/postfix/', `${s.root}/postfix/`, f);
  t = must(t, '/etc/ssl/certs/mail.example.com.pem', s.cert, f);
  t = must(t, '/etc/ssl/private/mail.example.com.key', s.key, f);
  t = must(t, /^inet_interfaces = all$/m, 'inet_interfaces = 127.0.0.1', f);
  t = must(t, /^inet_protocols = all$/m, 'inet_protocols = ipv4', f);
  return `${t}
# --- config-rewrite: state paths (defaults /var/spool/postfix, /var/lib/postfix, syslog) ---
queue_directory = ${s.spool}
data_directory = ${s.root}/lib/postfix
maillog_file = ${s.maillog}
maillog_file_prefixes = ${s.root}
`;
}

function rewriteMaster(text: string, p: Ports): string {
  const f = 'master.cf';
  let t = must(text, /^smtp(\s+)inet/m, `127.0.0.1:${p.smtp}$1inet`, f);
  t = must(t, /^submission(\s+)inet/m, `127.0.0.1:${p.submission}$1inet`, f);
  t = must(t, /^submissions(\s+)inet/m, `127.0.0.1:${p.submissions}$1inet`, f);
  return t;
}

function rewriteDovecot(text: string, s: { root: string; spool: string; vmail: string; cert: string; key: string; ports: Ports; log: string }): string {
  const f = 'dovecot.conf';
  let t = must(text, '/var/vmail', s.vmail, f);
  t = must(t, '/var/spool/postfix', s.spool, f);
  t = must(t, '/etc/dovecot/users', `${s.root}/dovecot/users`, f);
  t = must(t, '</etc/ssl/certs/mail.example.com.pem', `<${s.cert}`, f);
  t = must(t, '</etc/ssl/private/mail.example.com.key', `<${s.key}`, f);
  t = must(t, /^listen = .*$/m, 'listen = 127.0.0.1', f);
  for (const [name, port] of [['imap', 143], ['imaps', 993], ['pop3', 110], ['pop3s', 995]] as const) {
    t = must(t, new RegExp(`(inet_listener ${name} \\{\\n\\s+port = )${port}\\n`), `$1${s.ports[name]}\n`, f);
  }
  t = must(t, /^mail_uid = vmail$/m, 'mail_uid = nobody', f);
  t = must(t, /^mail_gid = vmail$/m, 'mail_gid = nogroup', f);
  t = must(t, /^mail_privileged_group = vmail$/m, 'mail_privileged_group = nogroup', f);
  t = must(t, 'uid=vmail gid=vmail', 'uid=nobody gid=nogroup', f);
  t = must(t, /^(\s+)user = vmail$/m, '$1user = nobody', f);
  return `# --- config-rewrite: state paths (defaults /run/dovecot, /var/lib/dovecot, syslog) ---
base_dir = ${s.root}/run/dovecot
state_dir = ${s.root}/lib/dovecot
log_path = ${s.log}
${t}`;
}

/** Port numbers for the seven listeners, all distinct. */
async function freePorts(): Promise<Ports> {
  const seen = new Set<number>();
  const one = async (): Promise<number> => {
    for (;;) {
      const p = await freePort();
      if (!seen.has(p)) {
        seen.add(p);
        return p;
      }
    }
  };
  return { smtp: await one(), submission: await one(), submissions: await one(), imap: await one(), imaps: await one(), pop3: await one(), pop3s: await one() };
}

export interface PrepareOptions {
  /** Put the Postfix-facing sockets somewhere else than the queue directory (a second MDA beside the first). */
  spoolName?: string;
  /** Share another setup's mail store (mix b: two MDAs, one maildir). */
  vmail?: string;
}

/**
 * Copies the examples into a fresh temp dir tied to `t`, rewritten as described above, with the
 * queue directory's private/ made for the postfix user (the MDA binds its sockets there before
 * Postfix or postern-mta starts) and the mail store given to the mail uid.
 */
export async function prepareExamples(t: TestContext, o: PrepareOptions = {}): Promise<ExampleSetup> {
  const root = tempDir(t, 'postern-e2e-');
  makeTraversable(root);
  chmodSync(root, 0o755);
  const ports = await freePorts();
  const spool = join(root, o.spoolName ?? 'spool');
  const vmail = o.vmail ?? join(root, 'vmail');
  const maillog = join(root, 'maillog');
  const dovecotLog = join(root, 'dovecot.log');
  const certFile = join(root, 'tls', 'mail.example.com.pem');
  const keyFile = join(root, 'tls', 'mail.example.com.key');
  for (const d of ['postfix', 'dovecot', 'tls', 'lib', 'run']) mkdirSync(join(root, d), { mode: 0o755 });
  mkdirSync(spool, { mode: 0o755 });
  mkdirSync(vmail, { recursive: true, mode: 0o755 });

  execFileSync(join(TOP, 'bin', 'postern-make-cert'), ['-n', 'mail.example.com', '-a', 'mail.example.com', keyFile, certFile], { stdio: 'pipe' });
  chmodSync(keyFile, 0o600);

  const asRoot = process.getuid?.() === 0;
  const mailUid = asRoot ? 65534 : process.getuid?.() ?? 1000;
  const mailGid = asRoot ? 65534 : process.getgid?.() ?? 1000;
  const postfixIds = asRoot ? idsOf('postfix') : undefined;
  if (asRoot) {
    chownSync(vmail, mailUid, mailGid);
    mkdirSync(join(spool, 'private'), { mode: 0o700 });
    if (postfixIds) chownSync(join(spool, 'private'), postfixIds.uid, postfixIds.gid);
  } else {
    mkdirSync(join(spool, 'private'), { mode: 0o700 });
  }

  const pf = join(EXAMPLES, 'postfix');
  for (const name of readdirSync(pf)) {
    const text = readFileSync(join(pf, name), 'utf8');
    let out = text;
    if (name === 'main.cf') out = rewriteMain(text, { root, spool, cert: certFile, key: keyFile, maillog });
    else if (name === 'master.cf') out = rewriteMaster(text, ports);
    writeFileSync(join(root, 'postfix', name), out, { mode: 0o644 });
  }
  const dovecotConf = join(root, 'dovecot', 'dovecot.conf');
  writeFileSync(dovecotConf, rewriteDovecot(readFileSync(join(EXAMPLES, 'dovecot', 'dovecot.conf'), 'utf8'), { root, spool, vmail, cert: certFile, key: keyFile, ports, log: dovecotLog }), { mode: 0o644 });
  copyFileSync(join(EXAMPLES, 'dovecot', 'users'), join(root, 'dovecot', 'users'));
  chmodSync(join(root, 'dovecot', 'users'), 0o644);

  return {
    root, postfixDir: join(root, 'postfix'), spool, maillog, dovecotConf, dovecotLog, vmail, certFile, keyFile, ports, mailUid, mailGid,
    lmtpSocket: join(spool, 'private', 'dovecot-lmtp'),
    authSocket: join(spool, 'private', 'auth'),
  };
}

function idsOf(user: string): { uid: number; gid: number } | undefined {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === user && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}
