/* loadPostfixConfig: the API other components use to read main.cf values. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPostfixConfig, postfixConfigFromText, splitList } from '../../../../shared/config/postfix/config.js';
import { ConfigOpenError } from '../../../../shared/errors/config-error.js';
import { tempDir } from '../../../helpers/tmp.js';

const host = { myhostname: 'mx.example.org', mydomain: 'example.org', mynetworks: (s: string) => (s === 'host' ? '127.0.0.1/32' : '127.0.0.0/8'), pid: 1 };

test('defaults, expansion, overrides and compatibility-level defaults', () => {
  const c = postfixConfigFromText('compatibility_level = 3.6\nalias_maps = hash:$config_directory/aliases\nsmtpd_banner = $myhostname ESMTP\n', { configDir: '/cfg', host, overrides: { relayhost: '[r]:25' } });
  assert.equal(c.get('default_database_type'), 'hash');
  assert.equal(c.get('alias_database'), 'hash:/etc/aliases');
  assert.deepEqual(splitList(c.get('alias_maps')), ['hash:/cfg/aliases']);
  assert.equal(c.get('config_directory'), '/cfg');
  assert.equal(c.get('smtpd_banner'), 'mx.example.org ESMTP');
  assert.equal(c.get('relay_domains'), '');
  assert.equal(c.get('mynetworks'), '127.0.0.1/32');
  assert.equal(c.get('relayhost'), '[r]:25');
  assert.equal(c.raw('relayhost'), '[r]:25');
  assert.equal(c.raw('myhostname'), undefined);
  assert.equal(c.getTime('maximal_queue_lifetime', 'd'), 5 * 86400);
  assert.equal(c.getBool('append_dot_mydomain'), false);
  assert.equal(c.get('nosuch'), '');
});

test('level 0 keeps the old defaults', () => {
  const c = postfixConfigFromText('', { configDir: '/cfg', host });
  assert.equal(c.get('relay_domains'), 'mx.example.org, localhost.example.org, localhost');
  assert.equal(c.getBool('append_dot_mydomain'), true);
  assert.equal(c.get('mynetworks'), '127.0.0.0/8');
});

test('missing main.cf', (t) => {
  const d = tempDir(t);
  assert.throws(() => loadPostfixConfig({ configDir: d }), (e: unknown) => e instanceof ConfigOpenError && e.message === `open ${d}/main.cf: No such file or directory`);
  writeFileSync(join(d, 'main.cf'), 'myhostname = a.b.c\n');
  assert.equal(loadPostfixConfig({ configDir: d }).get('mydomain'), 'b.c');
});
