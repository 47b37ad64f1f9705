/*
 * Interop with a real milter: Debian's opendkim, run as a private instance on loopback. A signing
 * instance (Mode s, domain example.org, a key from opendkim-genkey) driven through MilterSession
 * must answer end of message with a DKIM-Signature header; applied with apply.ts, the signed
 * message then goes through a verifying instance (Mode v, the public key given with
 * TestPublicKeys instead of DNS), which must add Authentication-Results with dkim=pass. A tampered
 * body must not pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findOracle, oracleSkip, run } from '../../helpers/oracle.js';
import { startOpendkim } from './opendkim.js';
import { tempDir } from '../../helpers/tmp.js';
import { DEFAULT_MILTER_SETTINGS, MilterSession } from '../../../mta/milter/client.js';
import { macroLookup } from '../../../mta/milter/macros.js';
import { applyModifications, type ApplyHeader } from '../../../mta/milter/apply.js';
import type { MilterModification } from '../../../mta/milter/codec.js';

const h = (text: string): ApplyHeader => ({ name: text.slice(0, text.indexOf(':')), raw: Buffer.from(text) });
const OUR_RECEIVED = h('Received: from client.example (localhost [127.0.0.1])\n\tby mx.example.org (Postfix) with ESMTP id 4XyZ1\n\tfor <bob@example.net>; Fri, 27 Nov 2026 22:19:28 +0000 (UTC)');
const HEADERS = [
  h('From: Alice <alice@example.org>'),
  h('To: bob@example.net'),
  h('Subject: interop\n test'),
  h('Date: Fri, 27 Nov 2026 22:19:28 +0000'),
  h('Message-ID: <interop-1@example.org>'),
];
const BODY = Buffer.from('Hello Bob,\r\n\r\nsigned by opendkim through the Postern milter client.\r\n');

async function transaction(spec: string, queueId: string, headers: readonly ApplyHeader[], body: Buffer) {
  const warnings: string[] = [];
  const m = new MilterSession(
    spec,
    { ...DEFAULT_MILTER_SETTINGS, commandTimeout: 10, contentTimeout: 10 },
    macroLookup({ j: 'mx.example.org', daemonName: 'mx.example.org', daemonAddr: '127.0.0.1', v: 'Postfix 3.7.11', clientName: 'localhost', clientPtr: 'localhost', clientAddr: '127.0.0.1', queueId }),
    { warn: (w) => warnings.push(w) },
  );
  const steps = [
    await m.connect({ hostname: 'localhost', address: '127.0.0.1', port: 40000, family: 'inet' }),
    await m.helo('client.example'),
    await m.envfrom(['<alice@example.org>']),
    await m.envrcpt(['<bob@example.net>']),
    await m.data(),
  ];
  const eom = await m.message(headers, body);
  await m.abort();
  await m.quit();
  return { steps, eom, warnings, negotiated: m.negotiated };
}

function headerValue(mods: readonly MilterModification[], name: string): string | undefined {
  for (const x of mods) if ((x.kind === 'addheader' || x.kind === 'insheader' || x.kind === 'chgheader') && x.name.toLowerCase() === name.toLowerCase()) return x.value.toString();
  return undefined;
}

test('opendkim signs through our client and verifies the result', { skip: oracleSkip('opendkim', 'opendkim-genkey') }, async (t) => {
  const dir = tempDir(t);
  const gen = run(findOracle('opendkim-genkey')!, ['-D', dir, '-d', 'example.org', '-s', 'test', '-b', '2048']);
  assert.equal(gen.status, 0, gen.stderr);
  chmodSync(join(dir, 'test.private'), 0o600);
  // test.txt is a BIND record split in quoted strings; TestPublicKeys wants "name record" lines.
  const txt = readFileSync(join(dir, 'test.txt'), 'utf8');
  const record = [...txt.matchAll(/"([^"]*)"/g)].map((m) => m[1]).join('');
  writeFileSync(join(dir, 'keys'), `test._domainkey.example.org ${record}\n`);

  const signer = await startOpendkim(t, dir, 'sign', `Mode s\nDomain example.org\nSelector test\nKeyFile ${join(dir, 'test.private')}\nCanonicalization relaxed/simple\nInternalHosts 127.0.0.1`);
  const verifier = await startOpendkim(t, dir, 'verify', `Mode v\nTestPublicKeys ${join(dir, 'keys')}\nAuthservID verifier.example.net\nAlwaysAddARHeader yes`);

  const signed = await transaction(signer, '4XyZ1', HEADERS, BODY);
  assert.deepEqual(signed.warnings, []);
  assert.ok(signed.steps.every((s) => s.action === 'continue'), JSON.stringify(signed.steps));
  assert.deepEqual(signed.eom.result, { action: 'continue' });
  const sig = signed.eom.modifications.find((x) => (x.kind === 'addheader' || x.kind === 'insheader') && x.name === 'DKIM-Signature');
  assert.ok(sig, `no DKIM-Signature in ${JSON.stringify(signed.eom.modifications.map((x) => x.kind))}`);
  const sigText = headerValue(signed.eom.modifications, 'DKIM-Signature')!;
  assert.match(sigText, /d=example\.org/);
  assert.match(sigText, /s=test/);
  t.diagnostic(`opendkim answered ${sig.kind}${sig.kind === 'insheader' ? ` index ${sig.index}` : ''}; negotiated protocol 0x${signed.negotiated?.events.toString(16)} actions 0x${signed.negotiated?.actions.toString(16)}`);

  // What cleanup would store: our Received: first, the signature where the milter asked.
  const stored = applyModifications(
    { sender: 'alice@example.org', recipients: [{ address: 'bob@example.net' }], headers: [OUR_RECEIVED, ...HEADERS], body: BODY },
    signed.eom.modifications,
    { leadingSpace: ((signed.negotiated?.events ?? 0) & (1 << 20)) !== 0 },
  );
  const next = stored.headers.filter((x) => x !== OUR_RECEIVED);

  const verified = await transaction(verifier, '4XyZ2', next, stored.body);
  const ar = headerValue(verified.eom.modifications, 'Authentication-Results');
  assert.ok(ar, `no Authentication-Results in ${JSON.stringify(verified.eom.modifications)}`);
  assert.match(ar, /verifier\.example\.net;\s*dkim=pass/);
  assert.match(ar, /header\.d=example\.org/);

  const tampered = await transaction(verifier, '4XyZ3', next, Buffer.from('Hello Mallory,\r\n'));
  const bad = headerValue(tampered.eom.modifications, 'Authentication-Results');
  assert.ok(bad);
  assert.doesNotMatch(bad, /dkim=pass/);
  assert.match(bad, /dkim=fail/);
});
