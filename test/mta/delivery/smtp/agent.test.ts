/*
 * The smtp(8) agent end to end against scripted fake servers on 127.0.0.x, found through the
 * loopback DNS responder: delivery, per-recipient replies, failures at every stage, MX fall-back,
 * session limits, null MX and NXDOMAIN, SIZE, SMTPUTF8, DSN parameters, connection reuse, logs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeSmtp } from '../../../helpers/smtp-sink.js';
import { harness, request } from './harness.js';

test('delivers through the best MX with DSN parameters, dot-stuffing and a Postfix log line', async (t) => {
  const h = await harness(t, {
    'example.test': { MX: [{ pref: 10, exchange: 'mx1.example.test' }, { pref: 20, exchange: 'mx2.example.test' }] },
    'mx1.example.test': { A: ['127.0.0.2'] },
    'mx2.example.test': { A: ['127.0.0.3'] },
  });
  const s1 = await startFakeSmtp(t, { host: '127.0.0.2', port: h.port });
  const s2 = await startFakeSmtp(t, { host: '127.0.0.3', port: h.port });
  const agent = h.agent();
  const req = request({
    nexthop: `example.test:${h.port}`,
    to: ['bob@example.test', 'carol@example.test'],
    body: 'Subject: hi\r\n\r\n.leading dot\r\nbye\r\n',
    envid: 'env 1',
    ret: 'HDRS',
    bodyType: '8BITMIME',
  });
  req.recipients[0]!.notify = ['SUCCESS', 'FAILURE'];
  req.recipients[1]!.originalAddress = 'Carol@example.test';
  const out = await agent.deliver(req);
  const relay = `mx1.example.test[127.0.0.2]:${h.port}`;
  assert.deepEqual(out, [
    { index: 0, kind: 'delivered', dsnStatus: '2.0.0', reply: '250 2.0.0 Ok: queued as FAKE', relay },
    { index: 1, kind: 'delivered', dsnStatus: '2.0.0', reply: '250 2.0.0 Ok: queued as FAKE', relay },
  ]);
  assert.equal(s2.connections, 0);
  const m = s1.messages[0]!;
  assert.equal(m.data, 'Subject: hi\r\n\r\n.leading dot\r\nbye\r\n');
  assert.equal(m.mailArgs, `SIZE=${req.size} BODY=8BITMIME RET=HDRS ENVID=env+201`);
  assert.deepEqual(m.rcptArgs, ['NOTIFY=SUCCESS,FAILURE', 'ORCPT=rfc822;Carol@example.test']);
  assert.ok(s1.commands.includes('EHLO client.test'));
  const line = h.logs.find((l) => l.includes('to=<bob@example.test>'))!;
  assert.match(line, new RegExp(`^ABC123: to=<bob@example.test>, relay=mx1\\.example\\.test\\[127\\.0\\.0\\.2\\]:${h.port}, delay=[0-9.]+, delays=[0-9.]+/0/[0-9.]+/[0-9.]+, dsn=2\\.0\\.0, status=sent \\(250 2\\.0\\.0 Ok: queued as FAKE\\)$`));
});

test('per-recipient RCPT replies: accepted, 4xx deferred, 5xx bounced (with and without PIPELINING)', async (t) => {
  for (const keywords of [['PIPELINING', 'SIZE 1000000'], ['SIZE 1000000']]) {
    const h = await harness(t, { 'ex.test': { A: ['127.0.0.4'] } });
    const srv = await startFakeSmtp(t, {
      host: '127.0.0.4', port: h.port, keywords,
      rcpt: (a) => (a.includes('temp@') ? '450 4.2.0 <temp@ex.test>: Mailbox busy' : a.includes('gone@') ? '550 5.1.1 <gone@ex.test>: Recipient address rejected: User unknown' : undefined),
    });
    const out = await h.agent().deliver(request({ nexthop: `ex.test:${h.port}`, to: ['ok@ex.test', 'temp@ex.test', 'gone@ex.test'] }));
    const n = `ex.test[127.0.0.4]`;
    assert.deepEqual(out.map((o) => [o.kind, o.dsnStatus]), [['delivered', '2.0.0'], ['deferred', '4.2.0'], ['bounced', '5.1.1']], keywords.join());
    assert.equal(out[1]!.kind === 'deferred' && out[1]!.reason, `host ${n} said: 450 4.2.0 <temp@ex.test>: Mailbox busy (in reply to RCPT TO command)`);
    assert.equal(out[2]!.kind === 'bounced' && out[2]!.reason, `host ${n} said: 550 5.1.1 <gone@ex.test>: Recipient address rejected: User unknown (in reply to RCPT TO command)`);
    assert.deepEqual(srv.messages[0]!.to, ['ok@ex.test']);
    assert.ok(h.logs.some((l) => l.includes('to=<gone@ex.test>') && l.includes('status=bounced (host ex.test[127.0.0.4] said: 550 5.1.1')));
  }
});

test('failures at MAIL, DATA and end of data concern every recipient', async (t) => {
  const h = await harness(t, { 'ex.test': { A: ['127.0.0.5'] } });
  const cases: Array<[Parameters<typeof startFakeSmtp>[1], string, string, string]> = [
    [{ mail: () => '553 5.7.1 <alice@origin.test>: Sender address rejected' }, 'bounced', '5.7.1', 'MAIL FROM command'],
    [{ mail: () => '451 4.3.0 try later' }, 'deferred', '4.3.0', 'MAIL FROM command'],
    [{ data: () => '554 5.5.1 no' }, 'bounced', '5.5.1', 'DATA command'],
    [{ dot: () => '452 4.3.1 Insufficient system storage' }, 'deferred', '4.3.1', 'end of DATA command'],
    [{ dot: () => '550 5.7.1 Message content rejected' }, 'bounced', '5.7.1', 'end of DATA command'],
  ];
  for (const [script, kind, dsn, cmd] of cases) {
    const srv = await startFakeSmtp(t, { host: '127.0.0.5', port: h.port, ...script });
    const out = await h.agent().deliver(request({ nexthop: `ex.test:${h.port}`, to: ['a@ex.test', 'b@ex.test'] }));
    for (const o of out) {
      assert.equal(o.kind, kind, cmd);
      assert.equal(o.dsnStatus, dsn);
      assert.match(o.kind === 'delivered' ? '' : o.reason, new RegExp(`^host ex\\.test\\[127\\.0\\.0\\.5\\] said: .* \\(in reply to ${cmd}\\)$`));
    }
    await srv.close();
  }
});

test('connection refused and 4xx greetings move on to the next MX; all failing defers', async (t) => {
  const h = await harness(t, {
    'ex.test': { MX: [{ pref: 10, exchange: 'dead.ex.test' }, { pref: 20, exchange: 'busy.ex.test' }, { pref: 30, exchange: 'good.ex.test' }] },
    'dead.ex.test': { A: ['127.0.0.6'] },
    'busy.ex.test': { A: ['127.0.0.7'] },
    'good.ex.test': { A: ['127.0.0.8'] },
  });
  const busy = await startFakeSmtp(t, { host: '127.0.0.7', port: h.port, greeting: '421 4.3.2 Service shutting down' });
  const good = await startFakeSmtp(t, { host: '127.0.0.8', port: h.port });
  const out = await h.agent().deliver(request({ nexthop: `ex.test:${h.port}`, to: ['a@ex.test'] }));
  assert.equal(out[0]!.kind, 'delivered');
  assert.equal(out[0]!.relay, `good.ex.test[127.0.0.8]:${h.port}`);
  assert.equal(busy.connections, 1);
  assert.equal(good.messages.length, 1);
  await good.close();
  const out2 = await h.agent().deliver(request({ nexthop: `ex.test:${h.port}`, to: ['a@ex.test'] }));
  assert.deepEqual(out2[0], {
    index: 0, kind: 'deferred', dsnStatus: '4.4.1', reason: `connect to good.ex.test[127.0.0.8]:${h.port}: Connection refused`, relay: 'none',
  });
  const out3 = await h.agent({}, {}, {}).deliver(request({ nexthop: `[dead.ex.test]:${h.port}`, to: ['a@ex.test'] }));
  assert.equal(out3[0]!.kind === 'deferred' && out3[0]!.reason, `connect to dead.ex.test[127.0.0.6]:${h.port}: Connection refused`);
});

test('5xx greeting: next server with smtp_skip_5xx_greeting = yes, bounce with no', async (t) => {
  const h = await harness(t, { 'ex.test': { A: ['127.0.0.9'] } });
  await startFakeSmtp(t, { host: '127.0.0.9', port: h.port, greeting: '554 5.7.1 go away' });
  const a = await h.agent().deliver(request({ nexthop: `ex.test:${h.port}`, to: ['a@ex.test'] }));
  assert.deepEqual([a[0]!.kind, a[0]!.dsnStatus, a[0]!.kind !== 'delivered' && a[0]!.reason], ['deferred', '4.7.1', 'host ex.test[127.0.0.9] refused to talk to me: 554 5.7.1 go away']);
  const b = await h.agent({ smtp_skip_5xx_greeting: 'no' }).deliver(request({ nexthop: `ex.test:${h.port}`, to: ['a@ex.test'] }));
  assert.deepEqual([b[0]!.kind, b[0]!.dsnStatus], ['bounced', '5.7.1']);
});

test('smtp_mx_session_limit counts servers that answered; smtp_mx_address_limit caps addresses', async (t) => {
  const h = await harness(t, {
    'ex.test': { MX: [{ pref: 10, exchange: 'a.ex.test' }, { pref: 20, exchange: 'b.ex.test' }, { pref: 30, exchange: 'c.ex.test' }] },
    'a.ex.test': { A: ['127.0.0.10'] },
    'b.ex.test': { A: ['127.0.0.11'] },
    'c.ex.test': { A: ['127.0.0.12'] },
  });
  const servers = await Promise.all(['127.0.0.10', '127.0.0.11', '127.0.0.12'].map((host) => startFakeSmtp(t, { host, port: h.port, greeting: '421 4.7.0 busy' })));
  const out = await h.agent().deliver(request({ nexthop: `ex.test:${h.port}`, to: ['a@ex.test'] }));
  assert.equal(out[0]!.kind, 'deferred');
  assert.deepEqual(servers.map((s) => s.connections), [1, 1, 0]);
  await h.agent({ smtp_mx_session_limit: '0', smtp_mx_address_limit: '1' }).deliver(request({ nexthop: `ex.test:${h.port}`, to: ['a@ex.test'] }));
  assert.deepEqual(servers.map((s) => s.connections), [2, 1, 0]);
});

test('4xx at RCPT on one MX: the recipient is tried on the next MX', async (t) => {
  const h = await harness(t, {
    'ex.test': { MX: [{ pref: 10, exchange: 'a.ex.test' }, { pref: 20, exchange: 'b.ex.test' }] },
    'a.ex.test': { A: ['127.0.0.13'] },
    'b.ex.test': { A: ['127.0.0.14'] },
  });
  await startFakeSmtp(t, { host: '127.0.0.13', port: h.port, rcpt: (a) => (a.includes('y@') ? '451 4.3.0 later' : undefined) });
  const b = await startFakeSmtp(t, { host: '127.0.0.14', port: h.port });
  const out = await h.agent().deliver(request({ nexthop: `ex.test:${h.port}`, to: ['x@ex.test', 'y@ex.test'] }));
  assert.deepEqual(out.map((o) => [o.kind, o.relay]), [['delivered', `a.ex.test[127.0.0.13]:${h.port}`], ['delivered', `b.ex.test[127.0.0.14]:${h.port}`]]);
  assert.deepEqual(b.messages[0]!.to, ['y@ex.test']);
});

test('lost connections, stalls, slowloris and endless replies cost one bounded deferral', async (t) => {
  const h = await harness(t, { 'ex.test': { A: ['127.0.0.15'] } });
  const fast = { helo: 300, mail: 300, rcpt: 300, dataInit: 300, dataDone: 300 };
  const run = async (script: Parameters<typeof startFakeSmtp>[1]) => {
    const srv = await startFakeSmtp(t, { host: '127.0.0.15', port: h.port, ...script });
    const started = Date.now();
    const out = await h.agent({}, fast).deliver(request({ nexthop: `ex.test:${h.port}`, to: ['a@ex.test'] }));
    await srv.close();
    assert.ok(Date.now() - started < 3000, 'bounded time');
    assert.equal(out[0]!.kind, 'deferred');
    return out[0]!.kind === 'deferred' ? [out[0]!.dsnStatus, out[0]!.reason] : [];
  };
  const n = 'ex.test[127.0.0.15]';
  assert.deepEqual(await run({ greeting: 'stall' }), ['4.4.2', `conversation with ${n} timed out while receiving the initial server greeting`]);
  assert.deepEqual(await run({ greeting: 'close' }), ['4.4.2', `lost connection with ${n} while receiving the initial server greeting`]);
  assert.deepEqual(await run({ rcpt: () => 'close' }), ['4.4.2', `lost connection with ${n} while sending RCPT TO`]);
  assert.deepEqual(await run({ mail: () => 'stall', keywords: ['SIZE 100000'] }), ['4.4.2', `conversation with ${n} timed out while sending MAIL FROM`]);
  assert.deepEqual(await run({ dot: () => 'stall' }), ['4.4.2', `conversation with ${n} timed out while sending end of data -- message may be sent more than once`]);
  // Slowloris: one byte every 50 ms never completes the greeting within the stage deadline.
  assert.deepEqual(await run({
    raw: (sock) => {
      const text = `220-${'x'.repeat(1000)}\r\n`;
      let i = 0;
      const timer = setInterval(() => (sock.destroyed ? clearInterval(timer) : sock.write(text[i++ % text.length]!)), 50);
      sock.on('close', () => clearInterval(timer));
    },
  }), ['4.4.2', `conversation with ${n} timed out while receiving the initial server greeting`]);
  // Endless multiline greeting at full speed: stopped by the line cap, memory bounded.
  const [dsn, reason] = await run({
    raw: (sock) => {
      const chunk = Buffer.from('220-endless endless endless\r\n'.repeat(1000));
      const pump = (): void => {
        while (!sock.destroyed && sock.write(chunk));
        if (!sock.destroyed) sock.once('drain', pump);
      };
      sock.on('error', () => undefined);
      pump();
    },
  });
  assert.equal(dsn, '4.4.2');
  assert.match(reason!, /^conversation with ex\.test\[127\.0\.0\.15\] failed while receiving the initial server greeting: reply has more than 1000 lines$/);
  // A huge single line: cut, then the reply is still understood.
  const big = await startFakeSmtp(t, { host: '127.0.0.15', port: h.port, greeting: `220 ${'y'.repeat(1_000_000)}` });
  const ok = await h.agent({}, fast).deliver(request({ nexthop: `ex.test:${h.port}`, to: ['a@ex.test'] }));
  assert.equal(ok[0]!.kind, 'delivered');
  await big.close();
});

test('null MX, NXDOMAIN and SERVFAIL', async (t) => {
  const h = await harness(t, { 'null.test': { MX: [{ pref: 0, exchange: '' }] } });
  h.dns.servfail.add('broken.test');
  const agent = h.agent();
  const a = await agent.deliver(request({ nexthop: 'null.test', to: ['u@null.test'] }));
  assert.deepEqual(a[0], { index: 0, kind: 'bounced', dsnStatus: '5.1.0', reason: 'Domain null.test does not accept mail (nullMX)', relay: 'none' });
  assert.ok(h.logs.some((l) => l === 'ABC123: to=<u@null.test>, relay=none, delay=' + l.split('delay=')[1]!.split(',')[0] + ', delays=' + l.split('delays=')[1]!.split(',')[0] + ', dsn=5.1.0, status=bounced (Domain null.test does not accept mail (nullMX))'));
  const b = await agent.deliver(request({ nexthop: 'nosuch.test', to: ['u@nosuch.test'] }));
  assert.deepEqual([b[0]!.kind, b[0]!.dsnStatus, b[0]!.kind !== 'delivered' && b[0]!.reason], ['bounced', '5.4.4', 'Host or domain name not found. Name service error for name=nosuch.test type=A: Host not found']);
  const c = await agent.deliver(request({ nexthop: 'broken.test', to: ['u@broken.test'] }));
  assert.deepEqual([c[0]!.kind, c[0]!.dsnStatus], ['deferred', '4.4.3']);
});

test('MX pointing at this host: loops back to myself', async (t) => {
  const h = await harness(t, { 'loop.test': { MX: [{ pref: 10, exchange: 'self.loop.test' }] }, 'self.loop.test': { A: ['127.0.0.1'] } });
  const out = await h.agent().deliver(request({ nexthop: 'loop.test', to: ['u@loop.test'] }));
  assert.deepEqual([out[0]!.kind, out[0]!.dsnStatus, out[0]!.kind !== 'delivered' && out[0]!.reason], ['bounced', '5.4.6', 'mail for loop.test loops back to myself']);
});

test('SIZE limit of the server and SMTPUTF8 requirement bounce before MAIL', async (t) => {
  const h = await harness(t, { 'ex.test': { A: ['127.0.0.16'] } });
  const srv = await startFakeSmtp(t, { host: '127.0.0.16', port: h.port, keywords: ['PIPELINING', 'SIZE 10'] });
  const out = await h.agent().deliver(request({ nexthop: `ex.test:${h.port}`, to: ['a@ex.test'] }));
  assert.deepEqual(out[0], {
    index: 0, kind: 'bounced', dsnStatus: '5.3.4', relay: `ex.test[127.0.0.16]:${h.port}`,
    reason: `message size ${out[0]!.kind === 'bounced' ? request({ to: [] }).size : 0} exceeds size limit 10 of server ex.test[127.0.0.16]`,
  });
  assert.ok(!srv.commands.some((c) => c.startsWith('MAIL')));
  await srv.close();
  await startFakeSmtp(t, { host: '127.0.0.16', port: h.port, keywords: ['PIPELINING'] });
  const u = await h.agent().deliver(request({ nexthop: `ex.test:${h.port}`, to: ['jörg@ex.test'], smtputf8: true }));
  assert.deepEqual([u[0]!.kind, u[0]!.dsnStatus, u[0]!.kind !== 'delivered' && u[0]!.reason], ['bounced', '5.6.7', 'SMTPUTF8 is required, but was not offered by host ex.test[127.0.0.16]']);
});

test('HELO fall-back when EHLO is refused; no ESMTP parameters then', async (t) => {
  const h = await harness(t, { 'ex.test': { A: ['127.0.0.17'] } });
  const srv = await startFakeSmtp(t, { host: '127.0.0.17', port: h.port, ehlo: () => '502 5.5.2 Error: command not recognized' });
  const out = await h.agent().deliver(request({ nexthop: `ex.test:${h.port}`, to: ['a@ex.test'], envid: 'x', bodyType: '8BITMIME' }));
  assert.equal(out[0]!.kind, 'delivered');
  assert.ok(srv.commands.includes('HELO client.test'));
  assert.equal(srv.messages[0]!.mailArgs, '');
});

test('connection caching: the next delivery to the same destination reuses the session after RSET', async (t) => {
  const h = await harness(t, { 'ex.test': { A: ['127.0.0.18'] } });
  const srv = await startFakeSmtp(t, { host: '127.0.0.18', port: h.port });
  const agent = h.agent();
  for (let i = 0; i < 3; i++) {
    const out = await agent.deliver(request({ nexthop: `ex.test:${h.port}`, to: [`u${i}@ex.test`] }));
    assert.equal(out[0]!.kind, 'delivered');
  }
  assert.equal(srv.connections, 1);
  assert.equal(srv.commands.filter((c) => c === 'RSET').length, 2);
  assert.equal(srv.messages.length, 3);
  // A cached session the server closed meanwhile is replaced by a new connection.
  const srv2 = await startFakeSmtp(t, { host: '127.0.0.19', port: h.port, rset: undefined } as never);
  h.dns.zone['ex2.test'] = { A: ['127.0.0.19'] };
  await agent.deliver(request({ nexthop: `ex2.test:${h.port}`, to: ['a@ex2.test'] }));
  await srv2.close();
  const srv3 = await startFakeSmtp(t, { host: '127.0.0.19', port: h.port });
  const out = await agent.deliver(request({ nexthop: `ex2.test:${h.port}`, to: ['b@ex2.test'] }));
  assert.equal(out[0]!.kind, 'delivered');
  assert.equal(srv3.connections, 1);
});
