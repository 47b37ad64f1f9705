/*
 * Pure parts of doveadm: the output formatters (expected bytes observed from doveadm 2.3.19),
 * the search query grammar (OR lists, mailbox selectors, human dates) and the admin protocol.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DoveadmPrinter, type PrintFormat } from '../../../../mda/cli/doveadm/print.js';
import { hasMessageKeyEverywhere, keyForMailbox, mailboxMatcher, parseDoveadmQuery, QueryError } from '../../../../mda/cli/doveadm/search-query.js';
import { formatAdminReply, formatAdminRequest, parseAdminReply, parseAdminRequest } from '../../../../mda/admin/protocol.js';
import { getopt, parseGlobal, UsageError } from '../../../../mda/cli/doveadm/args.js';

function status(format: PrintFormat): string {
  const p = new DoveadmPrinter(format);
  p.header({ key: 'mailbox', title: 'mailbox', hideTitle: true });
  p.header({ key: 'messages', title: 'messages' });
  p.header({ key: 'guid', title: 'guid' });
  for (const [m, n] of [['INBOX', '2'], ['Work', '0']]) {
    p.print(m!);
    p.print(n!);
    p.print('d8b2');
  }
  p.flush();
  return p.result().toString('utf8');
}

test('formatters: mailbox status rows as doveadm 2.3.19 prints them', () => {
  assert.equal(status('flow'), 'INBOX messages=2 guid=d8b2\nWork messages=0 guid=d8b2\n');
  assert.equal(status('tab'), 'mailbox\tmessages\tguid\nINBOX\t2\td8b2\nWork\t0\td8b2\n');
  assert.equal(status('json'), '[{"mailbox":"INBOX","messages":"2","guid":"d8b2"},{"mailbox":"Work","messages":"0","guid":"d8b2"}]');
  assert.equal(status('pager'), 'INBOX\nmessages: 2\nguid: d8b2\n\f\nWork\nmessages: 0\nguid: d8b2\n');
  // 80 columns: 7+1+8+1+4 = 21, the last column gets (80-21)/2 = 29 more.
  assert.equal(status('table'), `mailbox messages guid${' '.repeat(29)}\nINBOX   2        d8b2${' '.repeat(29)}\nWork    0        d8b2${' '.repeat(29)}\n`);
});

test('formatters: empty output, streams, json escapes', () => {
  const empty = (f: PrintFormat) => {
    const p = new DoveadmPrinter(f);
    p.flush();
    return p.result().toString();
  };
  assert.equal(empty('json'), '[]');
  assert.equal(empty('tab'), '\n');
  assert.equal(empty('flow'), '');
  const p = new DoveadmPrinter('pager');
  p.header({ key: 'uid', title: 'uid' });
  p.header({ key: 'hdr', title: 'hdr' });
  p.print('1');
  p.printStream('Subject: x\n\n');
  p.print('2');
  p.printStream('Subject: y\n\n');
  p.flush();
  assert.equal(p.result().toString(), 'uid: 1\nhdr:\nSubject: x\n\n\f\nuid: 2\nhdr:\nSubject: y\n\n');
  const j = new DoveadmPrinter('json');
  j.header({ key: 'v', title: 'v' });
  j.print('a"b\\c\n\t\x01');
  j.flush();
  assert.equal(j.result().toString(), '[{"v":"a\\"b\\\\c\\n\\t\\u0001"}]');
  const tab = new DoveadmPrinter('tab');
  tab.header({ key: 'uid', title: 'uid' });
  tab.header({ key: 'body', title: 'body' });
  tab.print('1');
  tab.printStream('x\n');
  tab.flush();
  assert.equal(tab.result().toString(), 'uid\tbody\n1\tx\n\t\n');
});

test('search query: OR lists, mailbox selectors, human forms', () => {
  const q = parseDoveadmQuery(['mailbox', 'INBOX', 'seen', 'or', 'flagged']);
  assert.equal(q.root.op, 'or');
  // OR(mailbox INBOX, seen, flagged): everything in INBOX, seen-or-flagged elsewhere.
  assert.deepEqual(keyForMailbox(q.root, 'INBOX', '', '.'), { op: 'all' });
  assert.equal(keyForMailbox(q.root, 'Work', '', '.').op, 'or');
  assert.throws(() => parseDoveadmQuery(['mailbox', 'INBOX', 'or', 'seen', 'flagged']), QueryError);
  assert.deepEqual(parseDoveadmQuery(['mailbox', 'X', 'all']).literalMailboxes, ['X']);
  assert.equal(hasMessageKeyEverywhere(parseDoveadmQuery(['mailbox', 'INBOX']).root), false);
  assert.equal(hasMessageKeyEverywhere(parseDoveadmQuery(['mailbox', 'INBOX', 'all']).root), true);
  const d = parseDoveadmQuery(['since', '2024-01-02']).root;
  assert.equal(d.op === 'imap' && d.key.op === 'date' ? d.key.date : 0, Date.UTC(2024, 0, 2));
  const older = parseDoveadmQuery(['savedbefore', '30d']).root;
  assert.deepEqual(older, { op: 'imap', key: { op: 'within', cmp: 'older', seconds: 30 * 86400 } });
  const big = parseDoveadmQuery(['larger', '10k']).root;
  assert.deepEqual(big, { op: 'imap', key: { op: 'size', cmp: 'larger', size: 10240 } });
  assert.deepEqual(parseDoveadmQuery(['not', '(', 'seen', ')']).root, { op: 'not', node: { op: 'imap', key: { op: 'flag', flag: '\\Seen', set: true } } });
  assert.throws(() => parseDoveadmQuery(['(', 'seen']), QueryError);
});

test('mailbox masks as LIST patterns', () => {
  const m = mailboxMatcher(['Work%'], '.');
  assert.equal(m('Work'), true);
  assert.equal(m('Work.Sub'), false);
  assert.equal(mailboxMatcher(['Work*'], '.')('Work.Sub'), true);
  assert.equal(mailboxMatcher(['inbox'], '.')('INBOX'), true);
});

test('argument parsing: global options, getopt', () => {
  const g = parseGlobal(['-c', '/x.conf', '-f', 'json', '-o', 'a=b', 'mailbox', 'list', '-u', 'u1']);
  assert.equal(g.opts.config, '/x.conf');
  assert.equal(g.opts.format, 'json');
  assert.deepEqual(g.opts.overrides, [['a', 'b']]);
  assert.deepEqual(g.rest, ['mailbox', 'list', '-u', 'u1']);
  const p = getopt(['-Au', 'x', '-Fusers', 'rest', '-s'], 'AF:u:');
  assert.deepEqual([...p.flags], ['A']);
  assert.deepEqual(p.values, [['u', 'x'], ['F', 'users']]);
  assert.deepEqual(p.rest, ['rest', '-s']);
  assert.throws(() => getopt(['-z'], 'u:'), UsageError);
});

test('admin protocol round trips', () => {
  for (const r of [{ kind: 'who', mask: undefined }, { kind: 'who', mask: 'u*' }, { kind: 'kick', mask: 'u1', net: '10.0.0.0/8' }] as const) {
    const line = formatAdminRequest(r);
    assert.ok(line.endsWith('\n'));
    assert.deepEqual(parseAdminRequest(line.slice(0, -1)), r);
  }
  const s = { kind: 'session', session: { user: 'a\tb', service: 'imap', pid: 42, ip: '127.0.0.1', session: 'abc' } } as const;
  assert.deepEqual(parseAdminReply(formatAdminReply(s).slice(0, -1)), s);
  assert.deepEqual(parseAdminReply('OK'), { kind: 'ok' });
  assert.deepEqual(parseAdminReply('ERR\tno'), { kind: 'err', text: 'no' });
  assert.throws(() => parseAdminRequest('BOGUS'));
});
