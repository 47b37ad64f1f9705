/* Typed values: what doveconf accepts and how it prints them back. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseValue, type SettingType } from '../../../../shared/config/dovecot/values.js';

const ROWS: ReadonlyArray<readonly [SettingType, string, string | { error: string }]> = [
  ['bool', 'YES', 'yes'], ['bool', 'y', 'yes'], ['bool', '1', 'yes'], ['bool', 'No', 'no'], ['bool', '0', 'no'],
  ['bool', 'maybe', { error: 'Invalid boolean value: maybe (use yes or no)' }],
  ['uint', '600', '600'], ['uint', 'abc', { error: 'Invalid number abc: Not a valid number' }],
  ['oct', '0600', '0600'], ['oct', '600', '01130'], ['oct', '0', '00'], ['oct', '0x', { error: 'Invalid number 0x: Not a valid number' }],
  ['port', '143', '143'], ['port', '99999', { error: 'Invalid port number 99999' }],
  ['size', '65536', '64 k'], ['size', '64k', '64 k'], ['size', '64 K', '64 k'], ['size', '10M', '10 M'], ['size', '1 G', '1 G'],
  ['size', '600', '600 B'], ['size', '0', '0'], ['size', '1025', '1025 B'], ['size', '5x', { error: 'Invalid size: 5x' }],
  ['time', '2s', '2 secs'], ['time', '120 s', '2 mins'], ['time', '90s', '90 secs'], ['time', '1h', '1 hours'], ['time', '24 hours', '1 days'],
  ['time', '14d', '2 weeks'], ['time', '30 mins', '30 mins'], ['time', '0', '0'],
  ['time', '5', { error: "Time interval '5' is missing units (add e.g. 's' for seconds)" }],
  ['time', '5 fortnights', { error: 'Invalid time interval: 5 fortnights' }],
  ['enum:yes:no:required', 'required', 'required'], ['enum:yes:no:required', 'bad', { error: 'Invalid value: bad' }],
  ['str', '  kept as is ', '  kept as is '],
];

for (const [type, raw, want] of ROWS) {
  test(`${type} ${JSON.stringify(raw)}`, () => {
    const r = normaliseValue(type, raw);
    assert.deepEqual(r, typeof want === 'string' ? { ok: true, value: want } : { ok: false, error: want.error });
  });
}
