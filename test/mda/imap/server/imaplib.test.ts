/*
 * Python's imaplib (a real, independent client) against our server: login, list, select, append,
 * search, fetch, store, copy, expunge, logout. Skipped with a reason when python3 is missing
 * (outside CI), through test/helpers/oracle.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { findOracle, oracleSkip } from '../../../helpers/oracle.js';
import { startTestServer } from './harness.js';

const SCRIPT = String.raw`
import imaplib, sys
port = int(sys.argv[1])
M = imaplib.IMAP4('127.0.0.1', port)
out = []
out.append(M.login('u1', 'secret')[0])
out.append(M.create('Archive')[0])
typ, data = M.list()
out.append(' | '.join(d.decode() for d in data))
msg = b'From: a@example.org\r\nSubject: imaplib test\r\n\r\nbody text\r\n'
typ, data = M.append('INBOX', '(\\Flagged)', None, msg)
out.append(typ + ' ' + data[0].decode())
typ, data = M.select('INBOX')
out.append(typ + ' ' + data[0].decode())
typ, data = M.search(None, 'SUBJECT', '"imaplib"')
out.append('search ' + data[0].decode())
typ, data = M.fetch('1', '(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
out.append('fetch ' + repr(data[0][1]))
typ, data = M.store('1', '+FLAGS', '(\\Seen)')
out.append('store ' + data[0].decode())
typ, data = M.copy('1', 'Archive')
out.append('copy ' + typ)
typ, data = M.store('1', '+FLAGS.SILENT', '(\\Deleted)')
typ, data = M.expunge()
out.append('expunge ' + repr(data))
typ, data = M.status('Archive', '(MESSAGES)')
out.append('status ' + data[0].decode())
out.append(M.logout()[0])
print('\n'.join(out))
`;

test('Python imaplib drives a whole session', { skip: oracleSkip('python3') }, async (t) => {
  const s = await startTestServer(t);
  const py = findOracle('python3')!;
  // Asynchronous spawn: the server runs in this process and must keep answering.
  const child = spawn(py, ['-c', SCRIPT, String(s.port)]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  assert.equal(code, 0, stderr);
  const lines = stdout.trim().split('\n');
  assert.equal(lines[0], 'OK');
  assert.equal(lines[1], 'OK');
  assert.equal(lines[2], '(\\HasNoChildren) "." Archive | (\\HasNoChildren) "." INBOX');
  assert.match(lines[3]!, /^OK \[APPENDUID [0-9]+ 1\] Append completed \([0-9.]+ \+ [0-9.]+ secs\)\.$/);
  assert.equal(lines[4], 'OK 1');
  assert.equal(lines[5], 'search 1');
  assert.equal(lines[6], "fetch b'Subject: imaplib test\\r\\n\\r\\n'");
  assert.match(lines[7]!, /^store 1 \(FLAGS \(\\Flagged \\Seen \\Recent\)\)$/);
  assert.equal(lines[8], 'copy OK');
  assert.equal(lines[9], "expunge [b'1']");
  assert.equal(lines[10], 'status Archive (MESSAGES 1)');
  assert.equal(lines[11], 'BYE');
});
