/*
 * conf/examples/ is read the same by the real programs and by ours: `postconf -n`, `-M` and `-P`
 * (main.cf, master.cf, per-service overrides) and `doveconf -n` (dovecot.conf, as committed and as
 * the e2e suite rewrites it) print the same text from real Postfix 3.7 / Dovecot 2.3 and from
 * Postern's tools. The only normalisation is doveconf's first line (build id) and Pigeonhole banner.
 * The users file's SHA512-CRYPT hashes verify with the documented passwords under both doveadms.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { oracleSkip, run, type RunResult } from '../helpers/oracle.js';
import { EXAMPLE_PASSWORDS, EXAMPLES, TOP, prepareExamples } from './config-rewrite.js';

const PF = join(EXAMPLES, 'postfix');
const DC = join(EXAMPLES, 'dovecot', 'dovecot.conf');
const ours = (tool: string, args: string[]): RunResult => run(join(TOP, 'bin', tool), args);

function normaliseDoveconf(r: RunResult): RunResult {
  return {
    ...r,
    stdout: r.stdout.replace(/^# 2\.3\.19\.1 \([0-9a-f]+\): /, '# 2.3.19.1 (Postern): ').replace(/^# Pigeonhole version .*\n/m, ''),
  };
}

for (const flag of ['-n', '-M', '-P']) {
  test(`postconf -c conf/examples/postfix ${flag}: real Postfix and ours agree`, { skip: oracleSkip('postconf') }, () => {
    const real = run('/usr/sbin/postconf', ['-c', PF, flag]);
    assert.equal(real.status, 0, real.stderr);
    assert.equal(real.stderr, '', 'real postconf has no warnings about the example');
    assert.ok(real.stdout.split('\n').length > 20, 'not vacuous');
    assert.deepEqual(ours('postconf', ['-c', PF, flag]), real);
  });
}

test('postconf -n shows the settings the guide is about', { skip: oracleSkip('postconf') }, () => {
  const out = run('/usr/sbin/postconf', ['-c', PF, '-h', 'virtual_transport', 'smtpd_sasl_type', 'smtpd_sasl_path', 'virtual_mailbox_maps']).stdout;
  assert.equal(out, 'lmtp:unix:private/dovecot-lmtp\ndovecot\nprivate/auth\ntexthash:/etc/postfix/vmailbox\n');
});

test('doveconf -n on the example dovecot.conf: real Dovecot and ours agree', { skip: oracleSkip('doveconf') }, () => {
  const real = normaliseDoveconf(run('/usr/bin/doveconf', ['-c', DC, '-n']));
  assert.equal(real.status, 0, real.stderr);
  assert.equal(real.stderr, '');
  assert.match(real.stdout, /^mail_location = maildir:\/var\/vmail\/%d\/%n$/m);
  assert.match(real.stdout, /unix_listener \/var\/spool\/postfix\/private\/dovecot-lmtp \{/);
  assert.deepEqual(ours('doveconf', ['-c', DC, '-n']), real);
});

/*
 * KNOWN GAP (reported, mda/cli/doveconf.ts sysinfoLine): the `# OS:` line ends with the file system
 * type of mail_location's path cut at the first `%` ("/tmp/…/vmail/" exists here: "ext4"); ours
 * looks up the uncut ".../%d/%n" and prints nothing. The rewritten copy's vmail exists, so the
 * field is compared apart: everything else must match, and the field is checked by its own test.
 */
const osLine = /^# OS: .*$/m;

test('doveconf -n on the e2e rewrite of the example: real Dovecot and ours agree', { skip: oracleSkip('doveconf') }, async (t) => {
  const s = await prepareExamples(t);
  const real = normaliseDoveconf(run('/usr/bin/doveconf', ['-c', s.dovecotConf, '-n']));
  assert.equal(real.status, 0, real.stderr);
  assert.ok(real.stdout.includes(`unix_listener ${s.spool}/private/auth {`), real.stdout);
  const mine = ours('doveconf', ['-c', s.dovecotConf, '-n']);
  const cut = (r: RunResult) => ({ ...r, stdout: r.stdout.replace(osLine, '# OS: …') });
  assert.deepEqual(cut(mine), cut(real));
});

test('doveconf -n: the # OS: line names the mail store\'s file system as real Dovecot does', { skip: oracleSkip('doveconf') }, async (t) => {
  const s = await prepareExamples(t);
  const real = normaliseDoveconf(run('/usr/bin/doveconf', ['-c', s.dovecotConf, '-n']));
  assert.equal(osLine.exec(ours('doveconf', ['-c', s.dovecotConf, '-n']).stdout)?.[0], osLine.exec(real.stdout)?.[0]);
});

test('the example users verify with their documented passwords (real doveadm pw -t and ours)', { skip: oracleSkip('doveadm') }, () => {
  const users = readFileSync(join(EXAMPLES, 'dovecot', 'users'), 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  assert.equal(users.length, Object.keys(EXAMPLE_PASSWORDS).length);
  for (const line of users) {
    const [name, hash] = line.split(':') as [string, string];
    assert.match(hash, /^\{SHA512-CRYPT\}\$6\$/);
    const pw = EXAMPLE_PASSWORDS[name];
    assert.ok(pw !== undefined, name);
    for (const r of [run('/usr/bin/doveadm', ['pw', '-t', hash, '-p', pw]), ours('doveadm', ['pw', '-t', hash, '-p', pw])]) {
      assert.equal(r.status, 0, `${name}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /\(verified\)$/m);
    }
    assert.notEqual(ours('doveadm', ['pw', '-t', hash, '-p', `${pw}x`]).status, 0, 'a wrong password does not verify');
  }
});
