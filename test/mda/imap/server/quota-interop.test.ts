/*
 * INTEROP: the QUOTA extension (RFC 2087) against the real Dovecot 2.3 imap binary with the quota and
 * imap_quota plugins, over the same maildir. For each configuration (limits on both resources, a
 * count root with a message limit, a root without limits, imap_quota without a root, quota without
 * imap_quota) the same script of GETQUOTAROOT / GETQUOTA / SETQUOTA commands (odd names, literals,
 * wrong arguments) must get identical replies, and QUOTA must end the post-login CAPABILITY list
 * exactly when Dovecot's does. Our usage is checked both from Dovecot's maildirsize and from our
 * own recount (maildirsize removed). Userdb overrides and the LOGIN reply's capability are checked
 * on our side only (the Dovecot binary runs without a userdb here).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createDovecotInstance } from '../../../helpers/dovecot-instance.js';
import { oracleSkip } from '../../../helpers/oracle.js';
import { startTestServer, TestClient } from './harness.js';
import { dovecotReplies, splitByTag, type Reply } from './interop-helpers.js';

interface Variant {
  readonly name: string;
  readonly plugins: string;
  readonly imapPlugins: string;
  readonly plugin: Record<string, string>;
}

const VARIANTS: readonly Variant[] = [
  { name: 'maildir, storage and messages', plugins: 'quota', imapPlugins: 'quota imap_quota', plugin: { quota: 'maildir:User quota', quota_rule: '*:storage=1M:messages=100', quota_rule2: 'Trash:storage=+10M' } },
  { name: 'maildir, bytes not a KiB multiple', plugins: 'quota', imapPlugins: 'quota imap_quota', plugin: { quota: 'maildir:User quota', quota_rule: '*:bytes=1500' } },
  { name: 'count, messages only', plugins: 'quota', imapPlugins: 'quota imap_quota', plugin: { quota: 'count:Count quota', quota_rule: '*:messages=10', quota_vsizes: 'yes' } },
  { name: 'root without limits', plugins: 'quota', imapPlugins: 'quota imap_quota', plugin: { quota: 'maildir:User quota' } },
  { name: 'imap_quota without a root', plugins: 'quota', imapPlugins: 'quota imap_quota', plugin: {} },
  { name: 'quota without imap_quota', plugins: 'quota', imapPlugins: 'quota', plugin: { quota: 'maildir:User quota', quota_rule: '*:storage=10M' } },
];

const SCRIPT = [
  'GETQUOTAROOT INBOX',
  'GETQUOTAROOT inbox',
  'GETQUOTAROOT Trash',
  'GETQUOTAROOT nosuch',
  'GETQUOTAROOT "a b"',
  'GETQUOTAROOT ""',
  'GETQUOTAROOT Foo..',
  'GETQUOTAROOT "&Jjo-"',
  'GETQUOTAROOT "&Jjo"',
  'GETQUOTAROOT {11+}\r\na"b"c"d"e"f',
  'GETQUOTAROOT {3+}\r\na\nb',
  'GETQUOTAROOT INBOX extra',
  'GETQUOTAROOT (a)',
  'GETQUOTAROOT',
  'GETQUOTA "User quota"',
  'GETQUOTA "Count quota"',
  'GETQUOTA "user quota"',
  'GETQUOTA ""',
  'GETQUOTA NIL',
  'GETQUOTA "User quota" x',
  'GETQUOTA (x)',
  'GETQUOTA',
  'SETQUOTA "User quota" (STORAGE 100)',
  'SETQUOTA "" ()',
  'SETQUOTA NIL ()',
  'SETQUOTA "User quota" (STORAGE 100) x',
  'SETQUOTA (a) ()',
  'SETQUOTA x y',
  'SETQUOTA "User quota"',
];

const MESSAGES = [
  { base: 'q1', bytes: Buffer.from('Subject: x\n\nhello\n') },
  { base: 'q2', bytes: Buffer.from(`Subject: y\n\n${'x'.repeat(3000)}\n`) },
];

function dovecotConf(v: Variant): string {
  const plugin = Object.entries(v.plugin).map(([k, val]) => `  ${k} = ${val}\n`).join('');
  return `mail_plugins = ${v.plugins}\nprotocol imap {\n  mail_plugins = ${v.imapPlugins}\n}\nplugin {\n${plugin}}\n`;
}

const capsOf = (lines: readonly string[]): string[] => lines.find((l) => l.startsWith('* CAPABILITY '))!.slice(13).split(' ');

for (const v of VARIANTS) {
  test(`QUOTA (${v.name}): real Dovecot imap vs Postern`, { skip: oracleSkip('doveadm') }, async (t) => {
    const dc = createDovecotInstance(t, { extraConf: dovecotConf(v) });
    dc.addMessages(MESSAGES);
    // Dovecot numbers the messages and writes maildirsize first; ours reads both.
    dc.imap('x GETQUOTAROOT INBOX\r\nz LOGOUT\r\n');
    const theirs = dovecotReplies(dc, [], ['CAPABILITY', ...SCRIPT]);
    // Without imap_quota every command is a BAD; Dovecot's replies come from one session per command.
    const server = await startTestServer(t, { settings: { mail_plugins: v.imapPlugins, postern_imap_max_bad_commands: '100' }, plugin: v.plugin });
    cpSync(dc.home, join(server.dir, 'home', 'u1'), { recursive: true, preserveTimestamps: true });
    chmodSync(join(server.dir, 'home', 'u1'), 0o755);

    const run = async (fresh: boolean): Promise<string[]> => {
      if (fresh) rmSync(join(server.maildir('u1'), 'maildirsize'), { force: true });
      const client = await TestClient.connect(server.port);
      t.after(() => client.close());
      const login = await client.cmd('L0', 'LOGIN u1 secret');
      const diffs: string[] = [];
      const caps = capsOf(await client.cmd('t0', 'CAPABILITY'));
      const want = capsOf(theirs.get('t0')!.untagged);
      assert.equal(caps.includes('QUOTA'), want.includes('QUOTA'), `QUOTA advertised: ${want.join(' ')}`);
      if (want.includes('QUOTA')) assert.equal(caps.at(-1), 'QUOTA');
      assert.equal(login.at(-1)!.includes(' QUOTA]'), want.includes('QUOTA'), login.at(-1));
      for (const [j, cmd] of SCRIPT.entries()) {
        const tag = `t${j + 1}`;
        const ours = splitByTag(await client.cmd(tag, cmd)).get(tag)!;
        const w = theirs.get(tag)!;
        const clean = (r: Reply): string => JSON.stringify({ untagged: r.untagged.filter((l) => !l.startsWith('* PREAUTH')), tagged: r.tagged });
        if (clean(w) !== clean(ours)) diffs.push(`${JSON.stringify(cmd)} (${fresh ? 'recounted' : 'maildirsize'})\n  dovecot: ${clean(w)}\n  postern: ${clean(ours)}`);
      }
      return diffs;
    };
    const diffs = [...(await run(false)), ...(await run(true))];
    if (diffs.length > 0) console.log(diffs.join('\n'));
    assert.equal(diffs.length, 0);
  });
}

test('QUOTA: userdb quota_rule overrides the plugin setting; pre-login the commands do not exist', async (t) => {
  const server = await startTestServer(t, {
    settings: { mail_plugins: 'quota imap_quota' },
    plugin: { quota: 'maildir:User quota', quota_rule: '*:storage=1M' },
    users: ['big:{PLAIN}secret::::::userdb_quota_rule=*:storage=2M:messages=7'],
  });
  const pre = await TestClient.connect(server.port);
  t.after(() => pre.close());
  assert.deepEqual(await pre.cmd('a', 'GETQUOTAROOT INBOX'), ['a BAD Error in IMAP command received by server.']);

  const c = await TestClient.connect(server.port);
  t.after(() => c.close());
  await c.login('big');
  const r = await c.cmd('b', 'GETQUOTAROOT INBOX');
  assert.deepEqual(r.slice(0, 2), ['* QUOTAROOT INBOX "User quota"', '* QUOTA "User quota" (STORAGE 0 2048 MESSAGE 0 7)']);
  await c.cmd('c', 'APPEND INBOX {5+}\r\nab\r\n\r\n');
  await c.cmd('d', 'SELECT INBOX');
  // Selected state too; our APPEND does not update maildirsize (documented), the recount does.
  rmSync(join(server.maildir('big'), 'maildirsize'), { force: true });
  assert.equal((await c.cmd('e', 'GETQUOTA "User quota"'))[0], '* QUOTA "User quota" (STORAGE 1 2048 MESSAGE 1 7)');

  const u1 = await TestClient.connect(server.port);
  t.after(() => u1.close());
  await u1.login('u1');
  assert.equal((await u1.cmd('f', 'GETQUOTA "User quota"'))[0], '* QUOTA "User quota" (STORAGE 0 1024)');
});
