/* Table tests for mail_location parsing and mailbox name validation/mapping. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocationError, parseMailLocation, splitLocation } from '../../../../mda/storage/maildir/location.js';
import { NameError, nameFromMaildirPlusPlusDir, relativeDir, splitName, type NameRules } from '../../../../mda/storage/maildir/names.js';

test('mail_location parsing', () => {
  const home = '/home/alice';
  const a = parseMailLocation('maildir:~/Maildir', home);
  assert.equal(a.root, '/home/alice/Maildir');
  assert.equal(a.inbox, '/home/alice/Maildir');
  assert.equal(a.layout, 'maildir++');
  const b = parseMailLocation('maildir:/var/vmail/example.org/bob:LAYOUT=fs:INBOX=/var/vmail/example.org/bob/INBOX', undefined);
  assert.equal(b.layout, 'fs');
  assert.equal(b.inbox, '/var/vmail/example.org/bob/INBOX');
  const c = parseMailLocation('maildir:~/Maildir:CONTROL=~/control:INDEX=MEMORY:UTF-8', home);
  assert.equal(c.control, '/home/alice/control');
  assert.equal(c.index, 'MEMORY');
  assert.equal(c.utf8, true);
  const d = parseMailLocation('maildir:~/Maildir:INDEX=/var/idx/alice:VOLATILEDIR=/tmp/x', home);
  assert.equal(d.index, '/var/idx/alice');
  assert.deepEqual(d.ignored, ['VOLATILEDIR']);
  assert.deepEqual(splitLocation('/a::b:INBOX=/c'), ['/a:b', 'INBOX=/c']);
  assert.equal(parseMailLocation('maildir:/srv/a::b', undefined).root, '/srv/a:b');
  for (const bad of ['mbox:~/mail', 'maildir:', 'maildir:Maildir', 'maildir:~/Maildir:LAYOUT=index', 'maildir:/x:BOGUS=1', 'maildir:~/Maildir']) {
    assert.throws(() => parseMailLocation(bad, bad.endsWith(':~/Maildir') && bad === 'maildir:~/Maildir' ? undefined : home), LocationError, bad);
  }
});

const PP: NameRules = { layout: 'maildir++', separator: '.', utf8: false };
const FS: NameRules = { layout: 'fs', separator: '/', utf8: false };

test('mailbox names: accepted and mapped to directories', () => {
  assert.deepEqual(splitName('Work.Sub', PP), ['Work', 'Sub']);
  assert.deepEqual(splitName('inbox', PP), ['INBOX']);
  assert.deepEqual(splitName('Inbox.x', PP), ['INBOX', 'x']);
  assert.equal(relativeDir(['Work', 'Sub'], PP), '.Work.Sub');
  assert.equal(relativeDir(['Entwürfe'], PP), '.Entw&APw-rfe');
  assert.equal(relativeDir(['Work', 'Sub'], FS), 'Work/Sub');
  assert.equal(relativeDir(['Entwürfe'], { ...PP, utf8: true }), '.Entwürfe');
  assert.equal(nameFromMaildirPlusPlusDir('.Work.Sub', PP), 'Work.Sub');
  assert.equal(nameFromMaildirPlusPlusDir('.Entw&APw-rfe', PP), 'Entwürfe');
  assert.equal(nameFromMaildirPlusPlusDir('..Work', PP), undefined);
  assert.equal(nameFromMaildirPlusPlusDir('.', PP), undefined);
  assert.equal(nameFromMaildirPlusPlusDir('.bad&-x&', PP), undefined);
  assert.equal(nameFromMaildirPlusPlusDir('.Work.Sub', { ...PP, separator: '/' }), 'Work/Sub');
});

test('mailbox names: refused (PARAMS)', () => {
  const deep = Array.from({ length: 17 }, (_, i) => `l${i}`).join('.');
  for (const bad of ['', 'a/b', '../x', 'a..b', '.a', 'a.', 'x\ny', 'tab\tname', '~root', 'a*', 'a%', deep, 'x'.repeat(300)]) {
    assert.throws(() => splitName(bad, PP), NameError, JSON.stringify(bad));
  }
  for (const bad of ['a/../b', '../x', 'a/./b', 'cur', 'x/new', '/abs', 'a//b']) {
    assert.throws(() => splitName(bad, FS), NameError, JSON.stringify(bad));
  }
  assert.throws(() => splitName('a.b', { ...PP, separator: '/' }), NameError);
});
