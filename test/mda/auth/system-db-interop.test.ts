/*
 * Interop: Debian's auth-system.conf.ext shape (`passdb { driver = shadow }`, `userdb { driver =
 * passwd }`) on a private config, answered by real Dovecot 2.3 (`dovecot -c`, queried with the real
 * doveadm) and by ours (our doveadm, which builds the auth service in-process from the same file).
 * Both read the real /etc/passwd and /etc/shadow: the test creates a system user with a password
 * set by chpasswd (a libxcrypt yescrypt hash on Debian) and removes it afterwards, and also uses
 * `nobody` (locked shadow entry → code=user_disabled). Needs root (reading /etc/shadow, creating the
 * user, Dovecot's master).
 *
 * Normalised before comparing: lines holding only blanks. Real Dovecot runs blocking passdbs in
 * auth-worker processes, whose reply adds an empty extra field (`auth test` prints "  " and `auth
 * lookup` "            "); Postern has no workers and sends no such field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { findOracle, oracleSkip, run } from '../../helpers/oracle.js';
import { startDovecot } from '../../helpers/dovecot-daemon.js';
import { doveadm } from '../../../mda/cli/doveadm.js';

const USER = 'posternpw';
const PASSWORD = 'Pw-Interop-42!';

async function ours(args: string[]): Promise<{ status: number; stdout: string }> {
  let stdout = '';
  const status = await doveadm(args, { stdout: (s) => (stdout += s), stderr: () => undefined });
  return { status, stdout };
}

const normalise = (s: string): string => s.split('\n').filter((l) => l.trim() !== '').join('\n');

function skipReason(): false | string {
  if (process.getuid?.() !== 0) {
    if (process.env['CI'] === 'true') throw new Error('system-db interop needs root in CI');
    return 'needs root (reads /etc/shadow, creates a system user, starts Dovecot)';
  }
  const o = oracleSkip('dovecot', 'doveadm', 'useradd', 'userdel', 'chpasswd');
  return o;
}

test('interop: passdb shadow + userdb passwd answer like real Dovecot', { skip: skipReason() }, async (t) => {
  const exists = readFileSync('/etc/passwd', 'utf8').split('\n').some((l) => l.startsWith(`${USER}:`));
  if (!exists) {
    const r = spawnSync(findOracle('useradd')!, ['-M', '-d', `/home/${USER}`, '-s', '/usr/sbin/nologin', USER], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    t.after(() => {
      spawnSync(findOracle('userdel')!, [USER]);
    });
  }
  const pw = spawnSync(findOracle('chpasswd')!, [], { input: `${USER}:${PASSWORD}\n`, encoding: 'utf8' });
  assert.equal(pw.status, 0, pw.stderr);

  const d = await startDovecot(t, [
    'protocols =',
    'auth_failure_delay = 0',
    'passdb {',
    '  driver = shadow',
    '}',
    'userdb {',
    '  driver = passwd',
    '}',
  ].join('\n'), ['@DIR@/run/auth-userdb', '@DIR@/run/auth-client']);
  const real = findOracle('doveadm')!;
  const cases: string[][] = [
    ['user', USER],
    ['user', '-u', USER],
    ['user', '-f', 'home', USER],
    ['user', 'nobody'],
    ['user', '-u', 'root'],
    ['user', 'no-such-user-x'],
    ['user', '-u', 'no-such-user-x'],
    ['auth', 'test', USER, PASSWORD],
    ['auth', 'test', USER, 'wrong'],
    ['auth', 'test', 'nobody', 'x'],
    ['auth', 'test', 'no-such-user-x', 'x'],
    ['auth', 'lookup', USER],
    ['auth', 'lookup', 'nobody'],
    ['user', '*'],
  ];
  for (const args of cases) {
    const theirs = run(real, ['-c', d.conf, ...args]);
    const mine = await ours(['-c', d.conf, ...args]);
    assert.equal(mine.status, theirs.status, `${args.join(' ')}: exit status\n${theirs.stdout}${theirs.stderr}`);
    assert.equal(normalise(mine.stdout), normalise(theirs.stdout), args.join(' '));
  }
  const hash = readFileSync('/etc/shadow', 'utf8').split('\n').find((l) => l.startsWith(`${USER}:`))?.split(':')[1] ?? '';
  t.diagnostic(`system hash scheme: ${hash.slice(0, 3)}`);
});
