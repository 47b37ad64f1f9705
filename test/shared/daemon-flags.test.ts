/*
 * bin/_launch (a shell script) repeats shared/daemon-flags.ts's list and environment for the daemon
 * commands; the daemons must really run with them, whichever way they are started.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_ENV, DAEMON_NODE_FLAGS, daemonEnv } from '../../shared/daemon-flags.js';

const TOP = fileURLToPath(new URL('../../../', import.meta.url));

test('bin/_launch gives the daemon commands exactly DAEMON_NODE_FLAGS, and other tools none', () => {
  // A stand-in `node` on PATH prints what it was given instead of running it.
  const dir = mkdtempSync(join(tmpdir(), 'postern-launch-'));
  try {
    writeFileSync(join(dir, 'node'), '#!/bin/sh\nprintf "%s\\n" "$@"\n');
    chmodSync(join(dir, 'node'), 0o755);
    const argsOf = (tool: string, entry: string): string[] => {
      const r = spawnSync('sh', [join(TOP, 'bin', '_launch'), tool, entry, '-x'], { env: { ...process.env, PATH: `${dir}:${process.env['PATH'] ?? ''}` }, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim().split('\n');
    };
    for (const [tool, entry] of [['postern-mda', 'mda/cli/postern-mda.js'], ['postern-mta', 'mta/cli/postern-mta.js'], ['dovecot', 'mda/cli/dovecot.js'], ['postfix', 'mta/cli/postfix.js']]) {
      assert.deepEqual(argsOf(tool!, entry!), [...DAEMON_NODE_FLAGS, join(TOP, 'dist', entry!), '-x'], tool);
    }
    assert.deepEqual(argsOf('postconf', 'mta/cli/postconf.js'), [join(TOP, 'dist', 'mta/cli/postconf.js'), '-x']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bin/_launch exports DAEMON_ENV to the daemon commands only, and keeps an administrator\'s own value', () => {
  // A stand-in `node` prints the variables DAEMON_ENV names, as it sees them.
  const dir = mkdtempSync(join(tmpdir(), 'postern-launch-'));
  try {
    const names = Object.keys(DAEMON_ENV);
    assert.deepEqual(names, ['MALLOC_ARENA_MAX']);
    writeFileSync(join(dir, 'node'), `#!/bin/sh\n${names.map((n) => `printf "${n}=%s\\n" "\${${n}-unset}"`).join('\n')}\n`);
    chmodSync(join(dir, 'node'), 0o755);
    const envOf = (tool: string, entry: string, extra: Record<string, string> = {}): string[] => {
      const env: NodeJS.ProcessEnv = { ...process.env, ...extra, PATH: `${dir}:${process.env['PATH'] ?? ''}` };
      if (extra['MALLOC_ARENA_MAX'] === undefined) delete env['MALLOC_ARENA_MAX'];
      const r = spawnSync('sh', [join(TOP, 'bin', '_launch'), tool, entry], { env, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim().split('\n');
    };
    const expected = Object.entries(DAEMON_ENV).map(([k, v]) => `${k}=${v}`);
    for (const [tool, entry] of [['postern-mda', 'mda/cli/postern-mda.js'], ['postern-mta', 'mta/cli/postern-mta.js'], ['dovecot', 'mda/cli/dovecot.js'], ['postfix', 'mta/cli/postfix.js']]) {
      assert.deepEqual(envOf(tool!, entry!), expected, tool);
      assert.deepEqual(envOf(tool!, entry!, { MALLOC_ARENA_MAX: '4' }), ['MALLOC_ARENA_MAX=4'], `${tool}: the administrator's value`);
    }
    assert.deepEqual(envOf('postconf', 'mta/cli/postconf.js'), ['MALLOC_ARENA_MAX=unset']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('daemonEnv adds DAEMON_ENV where the environment has none of its own', () => {
  assert.deepEqual(daemonEnv({ PATH: '/bin' }), { PATH: '/bin', ...DAEMON_ENV });
  assert.deepEqual(daemonEnv({ MALLOC_ARENA_MAX: '8' }), { MALLOC_ARENA_MAX: '8' });
  const env = { PATH: '/bin' };
  daemonEnv(env);
  assert.deepEqual(env, { PATH: '/bin' }, 'the argument is not changed');
});

test('a bin/ tool finds its entry point when run by path, through a symlink, and from inside bin/', () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-launch-'));
  try {
    writeFileSync(join(dir, 'node'), '#!/bin/sh\nprintf "%s\\n" "$@"\n');
    chmodSync(join(dir, 'node'), 0o755);
    // An administrator's link, e.g. /usr/sbin/postconf -> /opt/postern/bin/postconf.
    symlinkSync(join(TOP, 'bin', 'postconf'), join(dir, 'postconf'));
    const env = { ...process.env, PATH: `${dir}:${process.env['PATH'] ?? ''}` };
    const runs: [string, string[], string][] = [
      [join(TOP, 'bin', 'postconf'), ['-x'], '/'],
      [join(dir, 'postconf'), ['-x'], '/'],
      ['sh', ['postconf', '-x'], join(TOP, 'bin')],
    ];
    for (const [cmd, args, cwd] of runs) {
      const r = spawnSync(cmd, args, { env, cwd, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const [entry, ...rest] = r.stdout.trim().split('\n');
      assert.equal(realpathSync(resolve(cwd, entry!)), join(TOP, 'dist', 'mta/cli/postconf.js'), `${cmd} ${args.join(' ')}`);
      assert.deepEqual(rest, ['-x']);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// `postfix start` is checked on the running daemon's /proc cmdline in test/mta/main-daemon.test.ts;
// the detaching `dovecot` (no test starts it detached) by its source.
test('the detaching dovecot passes DAEMON_NODE_FLAGS and daemonEnv to the daemon it spawns', () => {
  for (const file of ['mda/cli/dovecot.ts']) {
    const src = readFileSync(join(TOP, file), 'utf8');
    const spawns = src.match(/spawn\(process\.execPath, \[[^\]]*\][^\n]*/g) ?? [];
    assert.ok(spawns.length > 0, file);
    for (const s of spawns) {
      assert.match(s, /\[\.\.\.DAEMON_NODE_FLAGS, /, `${file}: ${s}`);
      assert.match(s, /env: daemonEnv\(process\.env\)/, `${file}: ${s}`);
    }
  }
});
