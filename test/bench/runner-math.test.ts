/*
 * The pure parts of the benchmark runner (bench/stats.ts, bench/results.ts, the IMAP mix and
 * corpus framing): median, nearest-rank percentile, ratio and its direction, the result document's
 * shape (including "not available" entries that must carry no number). No timing assertions: no
 * benchmark runs here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { advantage, formatNumber, median, percentile, percentileSorted, ratio } from '../../bench/stats.js';
import { checkResultShape, consoleTable, markdownReport, RESULT_SCHEMA, summarize, unavailable, type BenchResult } from '../../bench/results.js';
import { MIX, pickOp, prng } from '../../bench/imap-load.js';
import { dotStuff, toCrlf } from '../../bench/corpus.js';
import { cpuBetween, sampleOf } from '../../bench/cpu-meter.js';

test('median', () => {
  const cases: [number[], number][] = [
    [[3], 3],
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2.5],
    [[5, Number.NaN, 1], 3],
  ];
  for (const [v, want] of cases) assert.equal(median(v), want, JSON.stringify(v));
  assert.ok(Number.isNaN(median([])));
});

test('nearest-rank percentile', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
  assert.equal(percentile(hundred, 50), 50);
  assert.equal(percentile(hundred, 99), 99);
  assert.equal(percentile(hundred, 100), 100);
  assert.equal(percentile(hundred, 0), 1);
  assert.equal(percentile([7], 99), 7);
  assert.equal(percentile([1, 2, 3, 4], 50), 2);
  assert.equal(percentileSorted([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90), 9);
  assert.ok(Number.isNaN(percentile([], 50)));
  assert.ok(Number.isNaN(percentile([1], 101)));
});

test('ratio and advantage follow the metric direction', () => {
  assert.equal(ratio(200, 100), 2);
  assert.ok(Number.isNaN(ratio(1, 0)));
  assert.ok(Number.isNaN(ratio(Number.NaN, 1)));
  assert.equal(advantage(200, 100, true), 2); // twice the throughput
  assert.equal(advantage(50, 100, false), 2); // half the latency
  assert.equal(advantage(200, 100, false), 0.5);
  assert.equal(formatNumber(1234.6), '1235');
  assert.equal(formatNumber(0.123456), '0.123');
  assert.equal(formatNumber(Number.NaN), 'n/a');
});

const machine = { nproc: 2, memoryMiB: 1024, cpuModel: 'cpu', kernel: 'k', node: 'v20', dovecot: 'Dovecot 2.3', postfix: '3.7', loadAverage: [0, 0, 0] };

test('result document: summaries, unavailable entries, shape check and tables', () => {
  const ok = summarize({ workload: 'lmtp', metric: 'delivery', unit: 'messages/s', higherIsBetter: true, ours: [10, 30, 20], reference: [5, 10, 15], referenceName: 'Dovecot' });
  assert.equal(ok.oursMedian, 20);
  assert.equal(ok.referenceMedian, 10);
  assert.equal(ok.ratio, 2);
  assert.equal(ok.advantage, 2);
  const lat = summarize({ workload: 'imap', metric: 'p99', unit: 'ms', higherIsBetter: false, ours: [4], reference: [2], referenceName: 'Dovecot' });
  assert.equal(lat.ratio, 2);
  assert.equal(lat.advantage, 0.5);
  const na = unavailable({ workload: 'smtp', metric: 'acceptance -s 20', reason: 'MTA not built' });
  assert.equal(na.status, 'not available');
  assert.equal('oursMedian' in na, false);
  const doc: BenchResult = {
    schema: RESULT_SCHEMA,
    startedAt: 'a',
    finishedAt: 'b',
    mode: 'quick',
    rounds: 3,
    machine,
    settings: { rounds: 3 },
    metrics: [ok, lat, na],
  };
  assert.deepEqual(checkResultShape(JSON.parse(JSON.stringify(doc))), []);
  assert.deepEqual(checkResultShape({ ...doc, metrics: [{ ...na, ratio: 1 }] }), ['metrics[0] has numbers but is not available']);
  assert.deepEqual(checkResultShape({ ...doc, metrics: [{ ...na, reason: '' }] }), ['metrics[0].reason']);
  assert.ok(checkResultShape({ ...doc, schema: 'x' }).includes('schema'));
  assert.ok(checkResultShape(null).length > 0);
  // A NaN median (no value) must not leak into JSON as null-as-number.
  const empty = summarize({ workload: 'w', metric: 'm', unit: 'u', higherIsBetter: true, ours: [], reference: [1], referenceName: 'r' });
  assert.equal(empty.oursMedian, undefined);
  assert.deepEqual(checkResultShape(JSON.parse(JSON.stringify({ ...doc, metrics: [empty] }))), []);
  const table = consoleTable(doc.metrics);
  assert.match(table, /2x better/);
  assert.match(table, /0\.5x worse/);
  assert.match(table, /not available: MTA not built/);
  assert.match(markdownReport(doc), /^\| lmtp \| delivery \(messages\/s\) \| 20 \| 10 \| 2 \| 2x better \|$/m);
});

test('IMAP mix: seeded draws are reproducible and cover every operation', () => {
  const a = prng(1001);
  const b = prng(1001);
  const seqA = Array.from({ length: 50 }, () => a());
  assert.deepEqual(seqA, Array.from({ length: 50 }, () => b()));
  assert.ok(seqA.every((x) => x >= 0 && x < 1));
  const seen = new Set(Array.from({ length: 2000 }, (_, i) => pickOp(i / 2000)));
  assert.equal(seen.size, MIX.length);
  assert.equal(pickOp(0), MIX[0]![0]);
  assert.equal(pickOp(0.999999), MIX[MIX.length - 1]![0]);
});

test('DATA framing: CRLF normalisation and dot-stuffing', () => {
  const cases: [string, string][] = [
    ['a\nb', 'a\r\nb\r\n'],
    ['a\r\nb\r\n', 'a\r\nb\r\n'],
    ['', '\r\n'],
  ];
  for (const [inp, want] of cases) assert.equal(toCrlf(Buffer.from(inp)).toString(), want);
  assert.equal(dotStuff(Buffer.from('.a\r\nb\r\n..\r\n.\r\n')).toString(), '..a\r\nb\r\n...\r\n..\r\n');
  assert.equal(dotStuff(Buffer.from('x.\r\n')).toString(), 'x.\r\n');
});

test('machine CPU from /proc/stat: busy is user + nice + system + irq + softirq; iowait counts as idle; steal is left out', () => {
  const stat = (user: number, nice: number, system: number, idle: number, iowait: number, irq: number, softirq: number, steal: number) =>
    `cpu  ${user} ${nice} ${system} ${idle} ${iowait} ${irq} ${softirq} ${steal} 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 12345\n`;
  const a = sampleOf(stat(100, 5, 50, 1000, 20, 0, 10, 3));
  assert.deepEqual(a, { busyMs: 1650, totalMs: 11850 }); // ticks of 10 ms: busy 165, total 165 + 1000 + 20
  const b = sampleOf(stat(160, 5, 80, 1050, 30, 0, 20, 9));
  // Busy grew by 60 + 30 + 10 ticks, idle by 50 and iowait by 10; steal's 6 ticks count nowhere.
  assert.deepEqual(cpuBetween(a, b), { busyMs: 1000, busyShare: 100 / 160 });
  assert.deepEqual(cpuBetween(a, a), { busyMs: 0, busyShare: 0 });
  assert.throws(() => sampleOf('intr 1\n'), /no aggregate cpu line/);
});
