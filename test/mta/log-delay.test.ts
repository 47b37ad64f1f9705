/* delay_logging_resolution_limit: the decimals of sub-second delays in `delay=`/`delays=` (postconf(5)). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDelay, mtaEvents } from '../../mta/log-events.js';

test('formatDelay honours the resolution limit (0..6), two significant digits below 10 s', () => {
  const cases: Array<[number, number, string]> = [
    [0.0052, 2, '0'], [0.0052, 3, '0.005'], [0.052, 3, '0.052'], [0.000123, 6, '0.00012'], [0.5, 0, '0'],
    [1.34, 0, '1'], [9.6, 0, '10'], [9.96, 2, '10'], [0.514, 6, '0.51'], [0.004, 9, '0.004'],
  ];
  for (const [x, limit, want] of cases) assert.equal(formatDelay(x, limit), want, `${x} @ ${limit}`);
  const line = mtaEvents.delivery.outcome({
    queueId: 'A1', to: 'a@b', relay: 'none', delay: 0.0123, delays: [0.0101, 0.0012, 0, 0.001], dsn: '2.0.0', status: 'sent', reason: 'x', resolution: 3,
  });
  assert.equal(line, 'A1: to=<a@b>, relay=none, delay=0.012, delays=0.01/0.001/0/0.001, dsn=2.0.0, status=sent (x)');
});
