/*
 * doveadm pw / user / auth test: our output and exit codes next to the real doveadm 2.3 (pw: hashes
 * from each verify in the other; a mismatch is exit 75 in both).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findOracle, oracleSkip, run } from '../../helpers/oracle.js';
import { tempDir } from '../../helpers/tmp.js';
import { doveadm } from '../../../mda/cli/doveadm.js';

async function ours(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await doveadm(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { status, stdout, stderr };
}

test('doveadm pw: hashes cross-verify with the real doveadm; mismatch exits 75', { skip: oracleSkip('doveadm') }, async () => {
  const real = findOracle('doveadm')!;
  for (const scheme of ['SHA256', 'SSHA512', 'SHA512-CRYPT', 'PLAIN-MD5']) {
    const mine = (await ours(['pw', '-s', scheme, '-p', 'secret'])).stdout.trim();
    assert.ok(mine.startsWith(`{${scheme}}`), mine);
    const r = run(real, ['pw', '-s', scheme, '-p', 'secret', '-t', mine]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), `${mine} (verified)`);
    const theirs = run(real, ['pw', '-s', scheme, '-p', 'secret']).stdout.trim();
    const v = await ours(['pw', '-s', scheme, '-p', 'secret', '-t', theirs]);
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stdout, `${theirs} (verified)\n`);
    const bad = await ours(['pw', '-s', scheme, '-p', 'wrong', '-t', theirs]);
    const realBad = run(real, ['pw', '-s', scheme, '-p', 'wrong', '-t', theirs]);
    assert.equal(bad.status, realBad.status);
    assert.equal(bad.stderr, realBad.stderr);
  }
  assert.equal((await ours(['nosuch'])).status, 64);
});

test('doveadm user and auth test against a passwd-file config', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'users'), 'u1@test.example:{PLAIN}secret:5000:5000::/srv/mail/u1::userdb_quota_rule=*:storage=1M\n');
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(conf, `auth_failure_delay = 0\npassdb {\n  driver = passwd-file\n  args = ${dir}/users\n}\nuserdb {\n  driver = passwd-file\n  args = ${dir}/users\n}\n`);
  const u = await ours(['-c', conf, 'user', 'U1@test.example']);
  assert.equal(u.status, 0);
  // As doveadm 2.3.19: `user` only when the userdb changed the name; `mail` is mail_location (unset here).
  assert.equal(u.stdout, 'field\tvalue\nuser\tu1@test.example\nuid\t5000\ngid\t5000\nhome\t/srv/mail/u1\nmail\t\nquota_rule\t*:storage=1M\n');
  assert.equal((await ours(['-c', conf, 'user', '-f', 'home', 'u1@test.example'])).stdout, '/srv/mail/u1\n');
  const none = await ours(['-c', conf, 'user', 'nosuch@test.example']);
  assert.equal(none.status, 67);
  // Real doveadm prints this on stdout (printf, after the formatter's header line).
  assert.equal(none.stdout, "field\tvalue\n\nuserdb lookup: user nosuch@test.example doesn't exist\n");
  const ok = await ours(['-c', conf, 'auth', 'test', 'u1@test.example', 'secret']);
  assert.equal(ok.status, 0);
  assert.equal(ok.stdout, 'passdb: u1@test.example auth succeeded\nextra fields:\n  user=u1@test.example\n');
  assert.equal((await ours(['-c', conf, 'auth', 'test', 'u1@test.example', 'bad'])).status, 77);
});
