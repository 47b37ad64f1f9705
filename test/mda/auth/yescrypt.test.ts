/*
 * yescrypt ("$y$") and crypt(3)-style scrypt ("$7$"): fixed vectors produced by Debian's libxcrypt
 * (through perl's crypt), covering Debian's default parameters (j9T), small N, r = 1, p > 1,
 * t = 1 and 2, the WORM and classic-scrypt flavors, empty, long and UTF-8 passwords; malformed
 * settings that libxcrypt refuses ("*0"); and a live cross-check against libxcrypt when perl is
 * installed (its crypt() is libcrypt's).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { yescryptCrypt } from '../../../mda/auth/schemes/yescrypt.js';
import { cryptVerify } from '../../../mda/auth/schemes/crypt.js';
import { verify } from '../../../mda/auth/schemes/registry.js';
import { findOracle } from '../../helpers/oracle.js';

const LONG = 'x'.repeat(100);

/** [password, libxcrypt's crypt(password, setting)] — the setting is the output up to its last '$'. */
const VECTORS: [string, string][] = [
  ['pw', '$y$j9T$abcdefghijklmnop$wRwvHNqzMkHLG74uLLCRVTwaZ.a1aIothEUeYGf9oED'],
  ['S3cret!', '$y$j9T$l99RfDvWCng5nV8yuK6us0$B8TZuclKHaaYap3hkMrtvV32A6wi4pOU4ynYN9OKm12'],
  ['', '$y$j9T$abcdefghijklmnop$pLCmL.WFP4llpuknjZB0lCp8KKEVl43CyXQupwneDY0'],
  [LONG, '$y$j9T$l99RfDvWCng5nV8yuK6us0$Ez9PRu.blCA1jg2AZZWYeeJ7WrLsZgJvK/L//C15f35'],
  ['pässwörd€', '$y$j9T$l99RfDvWCng5nV8yuK6us0$YmqfymHq72TMDA9g2xZqE5UnCKcCeje0bNPfOdyxcAA'],
  ['pw', '$y$j5T$abcdefghijklmnop$148wwWlNUxRBCSNEeKVLvsDpbe0Luw9hUHRQ2.gQPCC'],
  ['pw', '$y$j7.$abcd$00K6K6nB2rA43BBcWBiq3UnpYB0ABP02mJ5.FAMQl00'],
  ['pw', '$y$j75..$saltsaltsalt$xK1AWeuzKF75s9QVh.9eGDmTVYIZMCztb8dYtSRRz5B'],
  ['pw', '$y$j75//$saltsaltsalt$QaxIX7UEaWTriFZZ.v81cOX.j5lTn0woElOJdhMm4CA'],
  ['pw', '$y$j75/.$saltsaltsalt$49qaEqUDLeBa5G/Yf/BIFhz8s70iNV5p8qUGLyaVUP3'],
  ['pw', '$y$j750./$saltsaltsalt$X04VJ6cYve.yogaE9IPAyAccVbWWQXdjr6QrbXYxxhA'],
  ['pw', '$y$/5T$abcdefghijklmnop$PQi5z/JgtaAVEtHXIVJB1TQ/UzNjRZP7Qxln3pM86a6'],
  ['pw', '$y$/5T/.$abcdefghijklmnop$QVeQ8NN130wIb/qU9WsLKopWolDrfGX.Q1tvjzmDbJ7'],
  ['pw', '$y$.5T$abcdefghijklmnop$BxdnDYa2VTA/8A.8pqQF/0kWt8uzQJgX5UvTerLRw8B'],
  ['pw', '$y$jAT$$nU6IOXSjqSJao2.XBHDn6Y6ZZHwrh4DPGlabQJubDZ1'],
  ['pw', '$7$C6..../....SodiumChloride$L0u1l02GT8RRZhWA7zEJVsURA78BZaf4GJZSYc/8Cl4'],
  ['pw', '$7$56..../....salt$EggHFo30.uuVZtOhymnIZRDqiG2hPnlSTdpTFzW3jy5'],
];

/** Settings libxcrypt refuses (it returns the failure token "*0"). */
const REFUSED = ['$y$j9T$ab', '$y$j8T$x', '$y$~9T$abcd', '$y$j9T', '$y$j9T/$abcd', '$y$k9T$abcdefgh', '$7$'];

const settingOf = (hash: string): string => hash.slice(0, hash.lastIndexOf('$'));

test('yescrypt: libxcrypt vectors', () => {
  for (const [pw, hash] of VECTORS) {
    assert.equal(yescryptCrypt(Buffer.from(pw, 'utf8'), settingOf(hash)), hash, `${JSON.stringify(pw)} ${hash}`);
  }
  const [pw, hash] = VECTORS[6]!;
  assert.equal(yescryptCrypt(Buffer.from(pw, 'utf8'), hash), hash, 'a full hash works as its own setting');
});

test('yescrypt: settings libxcrypt refuses give no hash', () => {
  for (const s of REFUSED) assert.equal(yescryptCrypt(Buffer.from('pw'), s), undefined, s);
});

test('yescrypt through {CRYPT}: match, mismatch, and a shadow-style hash without a scheme', async () => {
  const [, debian] = VECTORS[1]!;
  assert.equal(await cryptVerify(debian, Buffer.from('S3cret!')), true);
  assert.equal(await cryptVerify(debian, Buffer.from('S3cret?')), false);
  assert.equal(await verify(debian, 'S3cret!'), true, 'default scheme CRYPT');
  const [, small] = VECTORS[6]!;
  assert.equal(await verify(`{CRYPT}${small}`, 'pw'), true);
  assert.equal(await verify(`{CRYPT}${small.slice(0, -1)}x`, 'pw'), false);
  assert.equal(await verify('{CRYPT}$y$j9T$ab$xxxx', 'pw'), false, 'malformed salt is a mismatch');
});

const perl = findOracle('perl');

/** libxcrypt's crypt() through perl, or undefined when it does not support the setting. */
function libcrypt(pw: string, setting: string): string | undefined {
  const r = spawnSync(perl!, ['-e', 'binmode STDOUT; print crypt($ARGV[0], $ARGV[1]) // ""', pw, setting], { encoding: 'latin1' });
  return r.status === 0 && r.stdout.startsWith('$') ? r.stdout : undefined;
}

test('yescrypt: live cross-check against libxcrypt (perl crypt)', { skip: perl === undefined ? 'perl not installed' : false }, (t) => {
  if (libcrypt('pw', '$y$j9T$abcdefghijklmnop') === undefined) {
    t.skip('this libcrypt has no yescrypt');
    return;
  }
  const alphabet = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  const settings = ['$y$j9T$', '$y$j5T$', '$y$j6.$', '$y$j65..$', '$y$j65/0$', '$7$46..../....'];
  for (let i = 0; i < settings.length; i++) {
    let salt = '';
    for (let k = 0; k < 16; k++) salt += alphabet[Math.floor(Math.random() * 64)];
    const setting = settings[i]!.startsWith('$7$') ? `${settings[i]}${salt}` : `${settings[i]}${salt.slice(0, 12)}`;
    const pw = `pw-${i}-${Math.random().toString(36).slice(2)}`;
    const want = libcrypt(pw, setting);
    assert.ok(want !== undefined, setting);
    assert.equal(yescryptCrypt(Buffer.from(pw, 'latin1'), setting), want, `${pw} ${setting}`);
  }
});
