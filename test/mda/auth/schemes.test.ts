/*
 * Password schemes: fixed vectors captured from Dovecot 2.3.19.1 `doveadm pw`, error cases, and
 * live interop both ways with the installed doveadm (ours verify theirs, theirs verify ours).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verify, generate, credentialsFor, splitStored } from '../../../mda/auth/schemes/registry.js';
import { PasswordSchemeError } from '../../../mda/auth/errors.js';
import { cramMd5FromContext } from '../../../mda/auth/schemes/cram-md5.js';
import { shaCrypt } from '../../../mda/auth/schemes/sha-crypt.js';
import { oracleSkip, findOracle, run } from '../../helpers/oracle.js';
import { createHmac } from 'node:crypto';

const S = 'secret';
const U = 'pässwörd 123';
const LONG = 'a-much-longer-password-that-exceeds-sixty-four-bytes-for-block-handling-0123456789';

/** [stored, password, options] — every row must verify, and fail with a wrong password. */
const VECTORS: [string, string, { user?: string; defaultScheme?: string }?][] = [
  ['{PLAIN}secret', S],
  ['{plain}secret', S],
  ['{CLEARTEXT}secret', S],
  ['{CLEAR}secret', S],
  ['{PLAIN.b64}c2VjcmV0', S],
  ['{PLAIN-TRUNC}6-secret', S],
  ['{CRYPT}$2y$05$RY7f8QksX3VjO.1iqFImu.otG7X8OzSZ/hMEAz.nOnXVjIjAvdHFy', S],
  ['{CRYPT}ueCO.PI7i8UmE', S],
  ['{DES-CRYPT}Pa9nhqWAWUFf6', U],
  ['{CRYPT}$1$Ac4okqYY$acqXhy5MKS7M2okAgog2T/', S],
  ['{CRYPT}$6$VjpFhEXA64/AAaJb$fyjYt8mR5uBIjhoOwm0wo6TJSlN94nmlw0xQOG50LkRjT1Iqoq4dLjYNfNoeFhjGxEOTjJp0F08OHRa9AqIci.', S],
  ['$1$Ac4okqYY$acqXhy5MKS7M2okAgog2T/', S],
  ['$6$VjpFhEXA64/AAaJb$fyjYt8mR5uBIjhoOwm0wo6TJSlN94nmlw0xQOG50LkRjT1Iqoq4dLjYNfNoeFhjGxEOTjJp0F08OHRa9AqIci.', S],
  ['{MD5-CRYPT}$1$cdLduvli$O.pryD9WwQMQCrjW2EQ6S.', U],
  ['{MD5}$1$2k3yUXeH$a7ianJnN.8Hup82Hk1cfv1', S],
  ['{SHA256-CRYPT}$5$Z8YQKiyhVPWxb72K$3pA/csZKrTzcol6DgBjWVz2AJ2/YbOoQjcfacn39te1', S],
  ['{SHA256-CRYPT}$5$a0KUbYyz6ioW88qd$eeDZZfyQBfOQF7ZMqu.0Bpswazk6pP5pobl54pQV.t9', U],
  ['{SHA256-CRYPT}$5$rounds=1234$dWDatvk7wKIPR1UG$IueZDhxu1WD3qtnqDxDthWAxuQ5yjBeIPAGPXlOocz4', U],
  ['{SHA512-CRYPT}$6$DLwquTlEaakN80RF$ZpbRMna526cB7k9l.9IGLo61QqiSajHJMOO3iIBmH8JXhvPpGc1ZDm6YcrEtHyjhUfcvCpw8q6mmm9TPdzljW/', U],
  ['{SHA512-CRYPT}$6$rounds=10000$Pi8lmB75WWFdbKt2$N7CV1nV9DZlTgXVTUvaduCr8gtwG8KyRKLmqlU00K0pYwdkN1Z80ErCTR/IgTaih10ArETVU7.PJsuj5K62GM0', S],
  ['{SHA512-CRYPT}$6$e6.XP7/tSsbZw6Ws$ddHInWvmnFutpo6ug4alqbEBJQczSloeqpPNfAH5gOpxs8As6DQjNBmU97oAl5ekSTx8YHA3jaf2P6GUOFyuQ0', LONG],
  ['{BLF-CRYPT}$2y$05$RVI3jj1cYJgbVOa4009UEugmmv7mcrfmMo16k7IJDL8gbTqojtmUi', U],
  ['{BLF-CRYPT}$2y$06$oZ/fIIuYi3Hlpy/x4C2kvuxLa6nXRq8Zeit6g0VV6g4aiu/PPwNXq', S],
  ['{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$ara8CS906dwfVenxGNEXNw$xS/kd1bv4rjwcA5FaWHaAfCafMn1SjjeZUOQVzqazKU', U],
  ['{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$lmZdvlDZg0TJOtPndlVK7w$1CnpN78qIDJ53IxPezvsoLPx+Bz2p8TeB1A6eiws/+8', S],
  ['{ARGON2I}$argon2id$v=19$m=65536,t=3,p=1$GHIDbJxrm26v3J4d0dZ0DA$VNrDlf7a0jAzhLsdWZ4JAAdolMTIwRjM+WTw/OEtvC0', U],
  ['{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=', S],
  ['{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ=', S],
  ['{SHA}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4', S],
  ['{SHA.HEX}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4', S],
  ['{SHA.B64}5en6G6MezRroT3XKqkdPOmY/BfQ=', S],
  ['{SHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=', S],
  ['{SHA256.HEX}2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b', S],
  ['{SHA256.B64}Pyc5B1E+2rx4ugua1ivC6x4W/5ew1cHU0SQsp3loimU=', U],
  ['{SHA512}vSsar3708Jvp9Szi2NWZZ02Bqp1qRCFpbcTZPdBhnWgs5WtNZKnvCXdhztmeD2cmW192CF5bDufKRpayrW/isg==', S],
  ['{SSHA}szhikqt7m81qLccRu9Mz8KuclBYFIlkZ', S],
  ['{SSHA}INljPrfGispD43zRHNxEhVz1fRXdifGu', U],
  ['{SSHA.HEX}d5a6e20769a7f9e2199e0d522c05d7d3fe2096f36aa291e9', S],
  ['{SSHA256}fOtB1n2Ij4fIKKC4BgHcAiB4VB106Opd8/GmOQmmaeyRI4dl', S],
  ['{SSHA512}h9B9KBSTgNFEnUucfhrCJhztxoKDFdddNo4vtPsv3f9NXYOkLHyzwF7dNRLTTHNa3DRq+S61y7MyVHnJhcjS4WSUTGg=', S],
  ['{SSHA512.HEX}5a9b2afc457999b3078b72ee32631c11f62ecaad1b55cd144c44b7586e7f5be63839e9e44b43d9179439bcecc143aff5f64190c4edb4bae8908ca70a5162d931d65d62ca', U],
  ['{SMD5}cZKxioKzwNc7+v2jc5pdT9JSZns=', S],
  ['{PLAIN-MD5}5ebe2294ecd0e0f08eab7690d2a6ee69', S],
  ['{LDAP-MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==', S],
  ['{CRAM-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56', S],
  ['{HMAC-MD5}f7beb2c56a74321cd43839a13849ac7c29619adebfb0af2366297ae7b18c1b5b', U],
  ['{DIGEST-MD5}b0b6b230afdf730260be143fb3265cf7', U, { user: 'alice@example.org' }],
  ['{SCRAM-SHA-1}4096,UrU9u0rMyNFZhA/tjMVzUQ==,VvD0mp2AzKMYLN9ZGpjtf0QdprI=,hQXoG2qzqTCu7ALfo56L2v0NK1c=', S],
  ['{SCRAM-SHA-256}4096,WeD2ecdnMogzFz7dvPa4EQ==,/4EmOAX1zm6ZdUGhnOS6ttZLGUoPfysAFSQc3EcCCZQ=,W3GcYpbT97GTTan0SvGQGmgQDgeSEdKqu/AMREh2FRo=', U],
  ['{PBKDF2}$1$nDyalstbt4Z2ZWlh$5000$74cd947c32d77dddf22cc82dd069a18b1a3647f7', S],
  // No prefix: the passdb's default scheme (CRYPT unless scheme= says otherwise).
  ['ueCO.PI7i8UmE', S],
  ['secret', S, { defaultScheme: 'PLAIN' }],
  ['5ebe2294ecd0e0f08eab7690d2a6ee69', S, { defaultScheme: 'PLAIN-MD5' }],
];

for (const [stored, pw, opts] of VECTORS) {
  test(`verify ${stored.slice(0, 40)}`, async () => {
    assert.equal(await verify(stored, pw, opts), true);
    assert.equal(await verify(stored, `x${pw}`, opts), false);
    assert.equal(await verify(stored, '', opts), false);
  });
}

const ERRORS: [string, RegExp][] = [
  ['{FOO}x', /Unknown scheme/],
  ['{SHA.zz}x', /Unknown scheme/],
  ['{SHA}!!!', /base64/],
  ['{SHA}c2VjcmV0', /Input length isn't valid \(6 instead of 20\)/],
  ['{SHA.HEX}zz', /HEX/],
  ['{SSHA}AAAA', /too short/],
  ['{SCRAM-SHA-1}1,2,3', /SCRAM/],
  ['{DIGEST-MD5}b0b6b230afdf730260be143fb3265cf7', /username/],
];

for (const [stored, re] of ERRORS) {
  test(`verify rejects ${stored}`, async () => {
    await assert.rejects(verify(stored, S), (e: unknown) => e instanceof PasswordSchemeError && re.test(e.message));
  });
}

test('unsupported crypt forms never match', async () => {
  for (const s of ['{CRYPT}', '{CRYPT}$y$j9T$abc$def', '{CRYPT}*', '{CRYPT}!', '{BLF-CRYPT}$2y$99$' + 'a'.repeat(53)]) {
    assert.equal(await verify(s, ''), false, s);
    assert.equal(await verify(s, S), false, s);
  }
});

test('splitStored follows password_get_scheme', () => {
  assert.deepEqual(splitStored('{SHA}abc'), { scheme: 'SHA', data: 'abc' });
  assert.deepEqual(splitStored('$1$salt$hash$ignored'), { scheme: 'MD5-CRYPT', data: '$1$salt$hash' });
  assert.deepEqual(splitStored('{nobrace'), { scheme: undefined, data: '{nobrace' });
  assert.deepEqual(splitStored('plain'), { scheme: undefined, data: 'plain' });
});

test('SHA-crypt clamps rounds below 1000 and keeps rounds= in the output', () => {
  const h = shaCrypt('sha512', Buffer.from(S), '$6$rounds=10$saltsalt');
  assert.match(h, /^\$6\$rounds=1000\$saltsalt\$/);
  assert.equal(shaCrypt('sha512', Buffer.from(S), h), h);
});

test('CRAM-MD5 response from the stored context equals HMAC-MD5 of the plaintext', () => {
  const ctx = credentialsFor('{CRAM-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56', 'CRAM-MD5')!;
  const fromPlain = credentialsFor('{PLAIN}secret', 'CRAM-MD5')!;
  const challenge = Buffer.from('<1896.697170952@postoffice.example.net>');
  const want = createHmac('md5', 'secret').update(challenge).digest();
  assert.deepEqual(cramMd5FromContext(ctx, challenge), want);
  assert.deepEqual(cramMd5FromContext(fromPlain, challenge), want);
  assert.equal(credentialsFor('{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=', 'CRAM-MD5'), undefined);
});

const GEN_SCHEMES = [
  'PLAIN', 'CLEARTEXT', 'CRYPT', 'DES-CRYPT', 'MD5-CRYPT', 'SHA256-CRYPT', 'SHA512-CRYPT', 'BLF-CRYPT', 'ARGON2I', 'ARGON2ID',
  'SHA', 'SSHA', 'SHA256', 'SSHA256', 'SHA512', 'SSHA512', 'SMD5', 'PLAIN-MD5', 'LDAP-MD5', 'CRAM-MD5',
  'SCRAM-SHA-1', 'SCRAM-SHA-256', 'PBKDF2', 'SHA.HEX', 'SSHA256.HEX', 'SHA512.B64',
];

test('generate then verify round-trips', async () => {
  for (const s of GEN_SCHEMES) {
    const h = await generate(s, U);
    assert.ok(h.startsWith(`{${s}}`), h);
    assert.equal(await verify(h, U), true, h);
    assert.equal(await verify(h, S), false, h);
  }
  const r = await generate('SHA512-CRYPT', S, { rounds: 6000 });
  assert.match(r, /^\{SHA512-CRYPT\}\$6\$rounds=6000\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
  assert.equal(await generate('PLAIN-TRUNC', S), '{PLAIN-TRUNC}secret');
  assert.match(await generate('BLF-CRYPT', S), /^\{BLF-CRYPT\}\$2y\$05\$[./A-Za-z0-9]{53}$/);
  assert.match(await generate('ARGON2ID', S), /^\{ARGON2ID\}\$argon2id\$v=19\$m=65536,t=3,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
});

const DOVEADM_SKIP = oracleSkip('doveadm');

test('interop: hashes from real doveadm pw verify in ours', { skip: DOVEADM_SKIP }, async () => {
  const doveadm = findOracle('doveadm')!;
  for (const s of GEN_SCHEMES) {
    for (const pw of [S, U, LONG]) {
      const r = run(doveadm, ['pw', '-s', s, '-p', pw]);
      assert.equal(r.status, 0, r.stderr);
      const h = r.stdout.trim();
      assert.equal(await verify(h, pw), true, `${s} ${h}`);
      assert.equal(await verify(h, `!${pw}`), false, `${s} ${h}`);
    }
  }
  const d = run(doveadm, ['pw', '-s', 'DIGEST-MD5', '-u', 'bob@example.org', '-p', U]).stdout.trim();
  assert.equal(await verify(d, U, { user: 'bob@example.org' }), true);
  for (const [s, r] of [['SHA256-CRYPT', '20000'], ['SHA512-CRYPT', '1000'], ['BLF-CRYPT', '4']] as const) {
    const h = run(doveadm, ['pw', '-s', s, '-r', r, '-p', U]).stdout.trim();
    assert.equal(await verify(h, U), true, h);
  }
});

test('interop: hashes we generate verify in real doveadm pw -t', { skip: DOVEADM_SKIP }, async () => {
  const doveadm = findOracle('doveadm')!;
  for (const s of GEN_SCHEMES) {
    for (const pw of [S, U, LONG]) {
      const h = await generate(s, pw);
      const ok = run(doveadm, ['pw', '-t', h, '-p', pw]);
      assert.equal(ok.status, 0, `${h}: ${ok.stderr}`);
      assert.match(ok.stdout, /\(verified\)/);
      const bad = run(doveadm, ['pw', '-t', h, '-p', `!${pw}`]);
      assert.notEqual(bad.status, 0, h);
    }
  }
  for (const [s, r] of [['SHA256-CRYPT', 20000], ['SHA512-CRYPT', 1000], ['BLF-CRYPT', 4]] as const) {
    const h = await generate(s, U, { rounds: r });
    assert.equal(run(doveadm, ['pw', '-t', h, '-p', U]).status, 0, h);
  }
  const d = await generate('DIGEST-MD5', U, { user: 'bob@example.org' });
  assert.equal(run(doveadm, ['pw', '-t', d, '-u', 'bob@example.org', '-p', U]).status, 0, d);
});
