/* Table-driven tests of the IMAP command parser: grammar elements, errors, limits, partial input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImapCommandParser, type ParseResult } from '../../../../mda/imap/proto/command-parser.js';
import { atom, literal, list, NIL, quoted, type ImapArg } from '../../../../mda/imap/proto/values.js';

function parseAll(input: string, opts = {}): ParseResult[] {
  const p = new ImapCommandParser(opts);
  p.push(Buffer.from(input, 'latin1'));
  const out: ParseResult[] = [];
  for (let i = 0; i < 50; i++) {
    const r = p.next();
    if (r.kind === 'need-more') break;
    out.push(r);
    if (r.kind === 'error' && r.fatal) break;
  }
  return out;
}

function args(input: string): readonly ImapArg[] {
  const r = parseAll(input).find((x) => x.kind === 'command');
  assert.ok(r && r.kind === 'command', `no command from ${JSON.stringify(input)}`);
  return r.command.args;
}

const ok: [string, ImapArg[]][] = [
  ['a NOOP\r\n', []],
  ['a ENABLE x  y\r\n', [atom('x'), atom('y')]],
  ['a ENABLE x \r\n', [atom('x')]],
  ['a X \\Seen a%b a*b a]b a[b\r\n', [atom('\\Seen'), atom('a%b'), atom('a*b'), atom('a]b'), atom('a[b')]],
  ['a X "a\\"b" "\\\\"\r\n', [quoted('a"b'), quoted('\\')]],
  ['a X NIL nil\r\n', [NIL, NIL]],
  ['a X (a (b "c") ()) d\r\n', [list(atom('a'), list(atom('b'), quoted('c')), list()), atom('d')]],
  ['a X (a)b "x"y\r\n', [list(atom('a')), atom('b'), quoted('x'), atom('y')]],
  ['a X {3+}\r\nabc\r\n', [literal('abc', { nonSync: true })]],
  ['a X {0}\r\n\r\n', [literal('')]],
  ['a X {3}\r\na\0b\r\n', [literal('a\0b')]],
  ['a X 1:*,5 $\r\n', [atom('1:*,5'), atom('$')]],
  ['a X BODY[HEADER.FIELDS (A B)]<0.100>\r\n', [atom('BODY[HEADER.FIELDS'), list(atom('A'), atom('B')), atom(']<0.100>')]],
  ['a X lf-only\n', [atom('lf-only')]],
];

for (const [input, expected] of ok) {
  test(`parses ${JSON.stringify(input)}`, () => {
    assert.deepEqual(JSON.parse(JSON.stringify(args(input))), JSON.parse(JSON.stringify(expected)));
  });
}

test('command name, UID prefix and tag', () => {
  const [r] = parseAll('A1 uid fetch 1 FLAGS\r\n');
  assert.ok(r?.kind === 'command');
  assert.equal(r.command.tag, 'A1');
  assert.equal(r.command.name, 'UID FETCH');
  assert.equal(r.command.uid, true);
});

// Texts observed from Dovecot 2.3.19's imap binary (see the interop test for the live check).
const errors: [string, string][] = [
  [' a NOOP\r\n', 'Error in IMAP tag: Invalid tag'],
  ['* NOOP\r\n', 'Error in IMAP tag: Invalid tag'],
  ['a  NOOP\r\n', 'Error in IMAP command: Invalid command name'],
  ['a ENABLE (a\r\n', "Error in IMAP command ENABLE: Missing ')'"],
  ['a ENABLE a)\r\n', "Error in IMAP command ENABLE: Unexpected ')'"],
  ['a ENABLE "abc\r\n', `Error in IMAP command ENABLE: Missing '"'`],
  ['a ENABLE "a\0b"\r\n', 'Error in IMAP command ENABLE: NULs not allowed in strings'],
  ['a ENABLE a"b\r\n', 'Error in IMAP command ENABLE: Invalid characters in atom'],
  ['a ENABLE a{b\r\n', 'Error in IMAP command ENABLE: Invalid characters in atom'],
  ['a ENABLE a(b\r\n', 'Error in IMAP command ENABLE: Invalid characters in atom'],
  ['a ENABLE a\tb\r\n', 'Error in IMAP command ENABLE: Invalid characters in atom'],
  ['a ENABLE \xe9\r\n', 'Error in IMAP command ENABLE: 8bit data in atom'],
  ['a ENABLE {x}\r\n', 'Error in IMAP command ENABLE: Invalid literal size'],
  ['a ENABLE {3+} x\r\n', 'Error in IMAP command ENABLE: Missing LF after literal size'],
  ['a ENABLE ~{3}\r\nabc\r\n', 'Error in IMAP command ENABLE: literal8 not allowed here'],
];

for (const [input, text] of errors) {
  test(`error for ${JSON.stringify(input)}`, () => {
    const r = parseAll(input)[0];
    assert.ok(r?.kind === 'error', JSON.stringify(r));
    assert.equal(r.text, text);
    assert.equal(r.fatal, false);
  });
}

test('after an error the rest of the line is skipped and the next command parses', () => {
  const rs = parseAll('a ENABLE a) b c d\r\nb NOOP\r\n');
  assert.equal(rs.length, 2);
  assert.equal(rs[0]!.kind, 'error');
  assert.ok(rs[1]!.kind === 'command' && rs[1]!.command.tag === 'b');
});

test('synchronising literal asks for a continuation once, then waits', () => {
  const p = new ImapCommandParser();
  p.push('a LOGIN {5}\r\n');
  assert.deepEqual(p.next(), { kind: 'continuation', text: 'OK' });
  assert.deepEqual(p.next(), { kind: 'need-more' });
  p.push('al');
  assert.deepEqual(p.next(), { kind: 'need-more' });
  p.push('ice {2+}\r\npw\r\n');
  const r = p.next();
  assert.ok(r.kind === 'command');
  assert.deepEqual(r.command.args.map((a) => (a.type === 'literal' ? a.value : '?')), ['alice', 'pw']);
});

test('byte-at-a-time input gives the same command', () => {
  const p = new ImapCommandParser();
  const input = 'x1 FETCH 1:* (BODY.PEEK[1.MIME] "q\\"s" {2+}\r\nab)\r\n';
  let r: ParseResult = { kind: 'need-more' };
  for (const ch of input) {
    p.push(ch);
    r = p.next();
    if (r.kind === 'command') break;
  }
  assert.ok(r.kind === 'command');
  assert.equal(r.command.args.length, 2);
});

test('literal above the limit is fatal before any of it is buffered', () => {
  const p = new ImapCommandParser({ maxLineLength: 100 });
  p.push('a ENABLE {101}\r\n');
  const r = p.next();
  assert.ok(r.kind === 'error');
  assert.equal(r.fatal, true);
  assert.equal(r.message, 'Literal size too large');
});

test('APPEND may have a larger literal limit and literal8', () => {
  const p = new ImapCommandParser({ maxLineLength: 100, maxLiteralSize: (c) => (c === 'APPEND' ? 1000 : 100) });
  p.push(`a APPEND INBOX ~{200+}\r\n${'x'.repeat(200)}\r\n`);
  const r = p.next();
  assert.ok(r.kind === 'command');
  const lit = r.command.args[1];
  assert.ok(lit?.type === 'literal' && lit.binary && lit.bytes.length === 200);
});

test('an over-long line is refused before it ends, and skipped', () => {
  const p = new ImapCommandParser({ maxLineLength: 50 });
  p.push(`a ENABLE ${'x'.repeat(60)}`);
  const r = p.next();
  assert.ok(r.kind === 'error');
  assert.equal(r.text, 'Error in IMAP command ENABLE: Too long argument');
  assert.ok(p.buffered < 60);
  p.push(`${'y'.repeat(1000)}\r\nb NOOP\r\n`);
  const n = p.next();
  assert.ok(n.kind === 'command' && n.command.tag === 'b');
});

test('8-bit quoted strings keep their bytes', () => {
  const [a] = args('a SELECT "\xc3\xa9t\xc3\xa9"\r\n');
  assert.ok(a?.type === 'quoted');
  assert.equal(a.value, 'été');
});
