/*
 * conf/systemd/*.service: systemd accepts them (`systemd-analyze verify`, with /opt/postern pointed
 * at this checkout), they carry the hardening docs/operations.md promises, and their
 * CapabilityBoundingSet is enough: each daemon, started as root under exactly that bounding set
 * (setpriv), comes up on the example configuration, twice for the MTA (the second start finds a
 * queue directory already owned by mail_owner, which is what needs CAP_DAC_OVERRIDE).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { oracleSkip } from '../helpers/oracle.js';
import { prepareExamples, TOP } from '../e2e/config-rewrite.js';
import { portOpen, smtpReady } from '../e2e/daemons.js';

const UNITS = ['postern-mta.service', 'postern-mda.service'] as const;
const unit = (name: string): string => readFileSync(join(TOP, 'conf', 'systemd', name), 'utf8');
const directive = (text: string, key: string): string[] =>
  [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!);

// In CI a missing program fails (oracleSkip throws); .ci/run installs systemd and util-linux.
const analyze = oracleSkip('systemd-analyze');
const setpriv = oracleSkip('setpriv') || (process.getuid?.() === 0 ? false : 'needs root (starts the daemons as root under a bounding set)');

test('systemd-analyze verify accepts both units', { skip: analyze }, (t) => {
  const dir = tempDir(t, 'postern-units-');
  const files = UNITS.map((u) => {
    const f = join(dir, u);
    writeFileSync(f, unit(u).replaceAll('/opt/postern/', TOP));
    return f;
  });
  const r = spawnSync('/usr/bin/systemd-analyze', ['verify', ...files], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', r.stderr);
});

for (const u of UNITS) {
  test(`${u}: per-daemon hardening`, () => {
    const text = unit(u);
    assert.deepEqual(directive(text, 'NoNewPrivileges'), ['true']);
    assert.deepEqual(directive(text, 'ProtectSystem'), ['strict']);
    assert.deepEqual(directive(text, 'PrivateTmp'), ['true']);
    assert.deepEqual(directive(text, 'RestrictAddressFamilies'), ['AF_UNIX AF_INET AF_INET6']);
    assert.deepEqual(directive(text, 'CapabilityBoundingSet')[0]?.split(' ').sort(),
      ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_NET_BIND_SERVICE', 'CAP_SETGID', 'CAP_SETUID']);
    assert.deepEqual(directive(text, 'MemoryDenyWriteExecute'), [], 'V8 needs W+X pages');
    const rw = directive(text, 'ReadWritePaths')[0]?.split(' ') ?? [];
    for (const p of u === 'postern-mta.service' ? ['/var/spool/postfix', '/var/lib/postfix'] : ['/var/vmail', '/var/spool/postfix/private']) {
      assert.ok(rw.includes(p), `${u} ReadWritePaths has ${p}`);
    }
  });
}

const BOUNDING = (u: string): string =>
  `-all,${directive(unit(u), 'CapabilityBoundingSet')[0]!.split(' ').map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`).join(',')}`;

async function runsUnder(t: TestContext, u: string, script: string, args: string[], ready: () => Promise<boolean>): Promise<string> {
  const p = spawn('/usr/bin/setpriv', ['--bounding-set', BOUNDING(u), '--', process.execPath, join(TOP, 'dist', script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const gone = new Promise((r) => p.once('exit', r));
  t.after(() => { if (p.exitCode === null) p.kill('SIGKILL'); });
  try {
    const end = Date.now() + 30_000;
    while (!(await ready())) {
      if (p.exitCode !== null) throw new Error(`${script} exited under the bounding set: ${out}`);
      if (Date.now() > end) throw new Error(`${script} not ready: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    p.kill('SIGTERM');
    await gone;
  }
  return out;
}

test('the units\' capability bounding sets are enough to start both daemons', { skip: setpriv, timeout: 180_000 }, async (t) => {
  const s = await prepareExamples(t);
  await runsUnder(t, 'postern-mda.service', 'mda/cli/postern-mda.js', ['-c', s.dovecotConf], async () => existsSync(s.lmtpSocket) && portOpen(s.ports.imap));
  for (let i = 0; i < 2; i++) {
    await runsUnder(t, 'postern-mta.service', 'mta/cli/postern-mta.js', ['-c', s.postfixDir], () => smtpReady(s.ports.submission));
  }
});
