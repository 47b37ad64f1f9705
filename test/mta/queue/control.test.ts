/* The qmgr control protocol: request/response lines as a table, and one exchange over a real socket. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from '../../helpers/tmp.js';
import {
  ControlProtocolError, formatRequest, formatResponse, parseRequest, parseResponse, type ControlRequest,
} from '../../../mta/queue/control-proto.js';
import { controlRequest, ControlUnavailableError } from '../../../mta/queue/control-client.js';
import { startControlServer } from '../../../mta/queue/control-server.js';
import { siteMatchesFlushDomains } from '../../../mta/cli/queue-flush-domains.js';

test('requests round-trip; bad lines are refused', () => {
  const reqs: ControlRequest[] = [
    { verb: 'FLUSH' }, { verb: 'WAKEUP' }, { verb: 'SCHEDULE', queueId: 'A745520E479' }, { verb: 'SITE', site: 'example.com' },
    { verb: 'SITE', site: '[192.0.2.1]' },
  ];
  for (const r of reqs) assert.deepEqual(parseRequest(formatRequest(r)), r);
  assert.deepEqual(parseRequest('FLUSH\r\n'), { verb: 'FLUSH' });
  for (const bad of ['', 'flush\n', 'FLUSH now\n', 'SCHEDULE\n', 'SCHEDULE ../x\n', 'SITE a b\n', 'SITE x\x00\n', `SITE ${'a'.repeat(2000)}\n`, 'QUIT\n']) {
    assert.throws(() => parseRequest(bad), ControlProtocolError, JSON.stringify(bad));
  }
  assert.throws(() => formatRequest({ verb: 'SCHEDULE', queueId: 'a/b' }), ControlProtocolError);
});

test('responses round-trip', () => {
  for (const r of [{ status: 'OK' }, { status: 'NOTCONFIGURED' }, { status: 'ERROR', text: 'queue busy' }] as const) {
    assert.deepEqual(parseResponse(formatResponse(r)), r);
  }
  assert.equal(formatResponse({ status: 'ERROR', text: 'a\nb' }), 'ERROR a b\n');
  assert.throws(() => parseResponse('YES\n'), ControlProtocolError);
});

test('fast_flush_domains matching', () => {
  // First match wins, as in Postfix match lists, so the exclusion comes first.
  const list = ['!no.relay.test', 'relay.test', '.sub.test', 'hash:/etc/postfix/flush'];
  const table: Array<[string, boolean]> = [
    ['relay.test', true], ['RELAY.test.', true], ['mx.relay.test', true], ['no.relay.test', false],
    ['sub.test', false], ['a.sub.test', true], ['other.test', false],
  ];
  for (const [site, want] of table) assert.equal(siteMatchesFlushDomains(site, list), want, site);
});

test('client and server exchange one line; a missing socket is "unavailable"', async (t) => {
  const sock = join(tempDir(t, 'postern-ctl-'), 'public', 'postern-qmgr');
  await assert.rejects(controlRequest(sock, { verb: 'FLUSH' }), (e: unknown) =>
    e instanceof ControlUnavailableError && e.reason === 'No such file or directory');
  const server = await startControlServer(sock, (req) =>
    req.verb === 'SITE' ? { status: 'NOTCONFIGURED' } : req.verb === 'SCHEDULE' ? Promise.reject(new Error('boom')) : { status: 'OK' });
  t.after(() => server.close());
  assert.deepEqual(await controlRequest(sock, { verb: 'FLUSH' }), { status: 'OK' });
  assert.deepEqual(await controlRequest(sock, { verb: 'SITE', site: 'x.test' }), { status: 'NOTCONFIGURED' });
  assert.deepEqual(await controlRequest(sock, { verb: 'SCHEDULE', queueId: 'ABC' }), { status: 'ERROR', text: 'boom' });
});
