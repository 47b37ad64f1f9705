/*
 * postconf interop: the real /usr/sbin/postconf 3.7.11 and ours on the same files must print the
 * same stdout and exit status; stderr must hold the same lines (Postfix prints unused/undefined
 * warnings in randomised hash order, so lines are compared as sorted sets). process_id differs
 * by nature (it is each program's pid) and is masked. Real postconf is run with argv[0] "postconf"
 * because it prefixes diagnostics with argv[0].
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync, existsSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { oracleSkip, findOracle } from '../../helpers/oracle.js';
import { tempDir } from '../../helpers/tmp.js';

const skip = oracleSkip('postconf');
const OURS = fileURLToPath(new URL('../../../mta/cli/postconf.js', import.meta.url));

interface R { status: number; stdout: string; stderr: string }

function runReal(args: string[]): R {
  const r = spawnSync(findOracle('postconf') as string, args, { encoding: 'latin1', argv0: 'postconf', timeout: 60_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
function runOurs(args: string[]): R {
  const r = spawnSync(process.execPath, [OURS, ...args], { encoding: 'latin1', timeout: 60_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
const maskPid = (s: string): string => s.replace(/^(process_id = )?\d+$/gm, (m, p: string | undefined) => (p !== undefined || /^\d{2,}$/.test(m) ? `${p ?? ''}PID` : m));
const lineSet = (s: string, dir: string, alias: string): string[] => [...new Set(s.split('\n').filter(Boolean).map((l) => l.split(alias).join(dir)))].sort();

/**
 * Real postconf re-reads a main.cf modified less than a second ago until it has aged (five reads 300 ms apart,
 * about 2 s a call); the files a test just wrote are dated back so the comparison does not wait for that.
 */
function settle(dir: string): void {
  const past = new Date(Date.now() - 60_000);
  for (const f of ['main.cf', 'master.cf']) {
    try {
      utimesSync(join(dir, f), past, past);
    } catch {
      // missing on purpose in some cases
    }
  }
}

function same(dirReal: string, args: string[], dirOurs = dirReal): void {
  settle(dirReal);
  const a = runReal(['-c', dirReal, ...args]);
  const b = runOurs(['-c', dirOurs, ...args]);
  const label = `postconf ${args.join(' ')}`;
  const hasH = args.some((x) => /^-[a-zA-Z#]*h/.test(x));
  const fix = (s: string): string => (hasH ? maskPid(s) : s.replace(/^process_id = \d+$/m, 'process_id = PID')).split(dirOurs).join(dirReal);
  assert.equal(fix(b.stdout), fix(a.stdout), `${label}: stdout`);
  assert.equal(b.status, a.status, `${label}: status`);
  assert.deepEqual(lineSet(b.stderr, dirReal, dirOurs), lineSet(a.stderr, dirReal, dirReal), `${label}: stderr`);
}

function stockDir(t: import('node:test').TestContext): string {
  const d = tempDir(t, 'postconf-stock-');
  const main = ['/usr/share/postfix/main.cf.debian', '/usr/share/postfix/main.cf.dist'].find(existsSync) as string;
  copyFileSync(main, join(d, 'main.cf'));
  copyFileSync('/usr/share/postfix/master.cf.dist', join(d, 'master.cf'));
  return d;
}

const DMS_MAIN = `# docker-mailserver style
smtpd_banner = $myhostname ESMTP
myhostname = mail.example.com
mydestination = localhost.$mydomain, localhost
mynetworks = 127.0.0.0/8 [::1]/128
dms_smtpd_sender_restrictions = reject_authenticated_sender_login_mismatch
mua_client_restrictions = permit_sasl_authenticated, reject
mua_sender_restrictions = $dms_smtpd_sender_restrictions, reject_sender_login_mismatch, permit_sasl_authenticated, reject
mua_unused = nothing
virtual_transport = lmtp:unix:/var/run/dovecot/lmtp
smtpd_recipient_restrictions = permit_sasl_authenticated, permit_mynetworks,
   reject_unauth_destination,
   check_policy_service unix:private/policyd-spf
compatibility_level = 3.7
policyd-spf_time_limit = 3600
relay_destination_concurrency_limit = 5
smtpd_restriction_classes = dms_class
dms_class = permit
`;
const DMS_MASTER = `smtp      inet  n       -       n       -       1       postscreen
smtpd     pass  -       -       n       -       -       smtpd
submission inet n       -       n       -       -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=$mua_client_restrictions
  -o smtpd_sender_restrictions=$mua_sender_restrictions
  -o { smtpd_recipient_restrictions = permit_sasl_authenticated, reject }
  -o milter_macro_daemon_name=ORIGINATING
  -o cleanup_service_name=sender-cleanup
submissions inet n      -       n       -       -       smtpd
  -o syslog_name=postfix/submissions
  -o smtpd_tls_wrappermode=yes
  -o smtpd_client_restrictions=$mua_client_restrictions
  -o mua_local_only=yes
127.0.0.1:10025 inet n  -       n       -       -       smtpd
  -o content_filter= -o smtpd_helo_restrictions=
[::1]:10026 inet n  -       n       -       -       smtpd -o content_filter=
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
sender-cleanup unix n   -       n       -       0       cleanup
  -o syslog_name=postfix/sender-cleanup
  -o header_checks=pcre:/etc/postfix/maps/sender_header_filter.pcre
qmgr      unix  n       -       n       300     1       qmgr
relay     unix  -       -       n       -       -       smtp
lmtp      unix  -       -       n       -       -       lmtp
policyd-spf unix -      n       n       -       0       spawn
  user=policyd-spf argv=/usr/bin/policyd-spf
dovecot   unix  -       n       n       -       -       pipe
  flags=DRhu user=vmail:vmail argv=/usr/lib/dovecot/deliver -f \${sender} -d \${user}@\${nexthop} { -a x }
`;

const PRINT_MODES: string[][] = [[], ['-n'], ['-d'], ['-x'], ['-nx'], ['-h'], ['-H'], ['-nf'], ['-nH'], ['-M'], ['-Mf'], ['-F'], ['-P'], ['-Px'], ['-Mx'],
  ['myhostname', 'mydomain', 'mynetworks', 'nosuchparam'], ['-x', 'mydestination', 'relay_domains', 'smtpd_relay_restrictions', 'mynetworks'],
  ['-dx', 'mydomain', 'mynetworks', 'append_dot_mydomain'], ['-F', 'smtp/inet/command', 'relay/unix/chroot', 'smtp/inet/maxproc'],
  ['-P', 'relay/unix', 'submission/inet/smtpd_client_restrictions'], ['-M', 'smtp', 'nosuch', 'relay/unix'], ['-o', 'myhostname=over.example', '-x', 'smtpd_banner'], ['-m'], ['-a'], ['-A'], ['-l']];

test('stock Debian main.cf + master.cf', { skip }, (t) => {
  const d = stockDir(t);
  for (const args of PRINT_MODES) same(d, args);
});

test('docker-mailserver style config with user-defined parameters', { skip }, (t) => {
  const d = tempDir(t, 'postconf-dms-');
  writeFileSync(join(d, 'main.cf'), DMS_MAIN);
  writeFileSync(join(d, 'master.cf'), DMS_MASTER);
  for (const args of PRINT_MODES) same(d, args);
});

const EXPRS = readFileSync(fileURLToPath(new URL('../../../../test/mta/cli/expansion-forms.txt', import.meta.url)), 'utf8').split('\n').filter(Boolean);

test('expansion forms (postconf -x)', { skip }, (t) => {
  const d = tempDir(t, 'postconf-exp-');
  writeFileSync(join(d, 'master.cf'), '');
  for (const e of EXPRS) {
    writeFileSync(join(d, 'main.cf'), `compatibility_level = 3.6\nsmtpd_banner = ${e}\nloop1 = $loop2\nloop2 = $loop1\nmydomain = ex.com\nx = X\n`);
    same(d, ['-x', 'smtpd_banner']);
    same(d, ['-n']);
  }
});

test('main.cf syntax errors and missing files', { skip }, (t) => {
  const d = tempDir(t, 'postconf-err-');
  for (const text of ['foo bar\n', 'a = 1\n=novalue\n', ' leading = x\nmyhostname = a\n', 'myhostname = a\n 1abc = x\n', 'x-y = 3\n']) {
    writeFileSync(join(d, 'main.cf'), text);
    same(d, ['-n']);
  }
  same(join(d, 'nonexistent'), ['-n']);
  same(d, ['-Z']);
});

const EDITS: string[][] = [
  ['-e', 'mydestination = x y'], ['relayhost=new'], ['-e', 'newp=1'], ['-#', 'mydestination', 'biff'], ['-X', 'relayhost'], ['-X', 'nosuch'],
  ['-e', 'x=1', 'x=2'], ['-e', '#a=1'], ['-e', 'a'], ['-X', 'a=1'],
  ['-M', 'relay/unix=relay unix - - n - - smtp -o syslog_name=postfix/relay -o smtp_helo_timeout=5'], ['-MX', 'relay/unix'], ['-M#', 'uucp/unix'],
  ['-M', 'sub/inet=sub inet n - n - - smtpd -o x=y'], ['-F', 'smtp/inet/chroot=n'],
  ['-F', 'maildrop/unix/command=pipe flags=R user=x argv=/bin/true ${recipient}'], ['-P', 'smtp/inet/smtpd_tls_security_level=may'],
  ['-PX', 'relay/unix/syslog_name'], ['-P', 'nosvc/unix/a=b'], ['-F', 'smtp/inet/wakeup=x'], ['-M', 'bad'],
];

test('edit round-trips produce the files real postconf writes', { skip }, (t) => {
  const base = stockDir(t);
  const extra = 'mydestination = a,\n#c\n   b\n\nrelayhost = r';
  writeFileSync(join(base, 'main.cf'), readFileSync(join(base, 'main.cf'), 'latin1') + extra, 'latin1');
  for (const args of EDITS) {
    const a = tempDir(t, 'postconf-edit-real-');
    const b = tempDir(t, 'postconf-edit-ours-');
    for (const d of [a, b]) {
      mkdirSync(d, { recursive: true });
      copyFileSync(join(base, 'main.cf'), join(d, 'main.cf'));
      copyFileSync(join(base, 'master.cf'), join(d, 'master.cf'));
    }
    const ra = runReal(['-c', a, ...args]);
    const rb = runOurs(['-c', b, ...args]);
    const label = `postconf ${args.join(' ')}`;
    assert.equal(rb.status, ra.status, `${label}: status`);
    assert.deepEqual(lineSet(rb.stderr, a, b), lineSet(ra.stderr, a, a), `${label}: stderr`);
    assert.equal(readFileSync(join(b, 'main.cf'), 'latin1'), readFileSync(join(a, 'main.cf'), 'latin1'), `${label}: main.cf`);
    assert.equal(readFileSync(join(b, 'master.cf'), 'latin1'), readFileSync(join(a, 'master.cf'), 'latin1'), `${label}: master.cf`);
  }
});
