/*
 * shared/idle-gc.ts: when a quiet process collects (a table of interval sequences), and that the
 * collection really gives the young generation back in a process run with the daemons' flags.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DAEMON_NODE_FLAGS } from '../../shared/daemon-flags.js';
import { IdleCollector, MAX_TRIES, QUIET_UTILIZATION, YOUNG_RESIDENT_LIMIT, startIdleGc, type IntervalSample } from '../../shared/idle-gc.js';

const BIG = YOUNG_RESIDENT_LIMIT + 1;
const quiet = (youngResident: number): IntervalSample => ({ utilization: QUIET_UTILIZATION / 10, youngResident });
const busy: IntervalSample = { utilization: 0.5, youngResident: BIG };

const cases: { name: string; samples: IntervalSample[]; expect: boolean[] }[] = [
  { name: 'busy: never', samples: [busy, busy], expect: [false, false] },
  { name: 'quiet with a small young generation: never', samples: [quiet(YOUNG_RESIDENT_LIMIT), quiet(1 << 20)], expect: [false, false] },
  { name: 'just at the quiet threshold counts as busy', samples: [{ utilization: QUIET_UTILIZATION, youngResident: BIG }], expect: [false] },
  { name: 'quiet with a large young generation: collects', samples: [quiet(BIG)], expect: [true] },
  { name: 'stops after MAX_TRIES that left it large', samples: Array.from({ length: MAX_TRIES + 2 }, () => quiet(BIG)), expect: [...Array.from({ length: MAX_TRIES }, () => true), false, false] },
  { name: 'a busy interval starts the tries again', samples: [...Array.from({ length: MAX_TRIES + 1 }, () => quiet(BIG)), busy, quiet(BIG)], expect: [...Array.from({ length: MAX_TRIES }, () => true), false, false, true] },
  { name: 'a shrink (small young generation) starts the tries again', samples: [...Array.from({ length: MAX_TRIES }, () => quiet(BIG)), quiet(1 << 20), quiet(BIG)], expect: [...Array.from({ length: MAX_TRIES }, () => true), false, true] },
];

for (const c of cases) {
  test(`IdleCollector: ${c.name}`, () => {
    const ic = new IdleCollector();
    assert.deepEqual(c.samples.map((s) => ic.tick(s)), c.expect);
  });
}

test('startIdleGc does nothing without a gc function', () => {
  const g = globalThis as { gc?: unknown };
  const saved = g.gc;
  delete g.gc;
  try {
    const h = startIdleGc({ intervalMs: 10 });
    h.stop();
  } finally {
    if (saved !== undefined) g.gc = saved;
  }
});

test('a quiet process started with the daemon flags gives its young generation back', () => {
  const mod = fileURLToPath(new URL('../../shared/idle-gc.js', import.meta.url));
  // A burst that grows the young generation, then nothing: the child reports the young generation's
  // resident size after the burst and once it has stayed quiet (or after 40 s).
  const script = `
    const { startIdleGc, youngResident } = await import(${JSON.stringify(mod)});
    let keep = [];
    for (let i = 0; i < 3e6; i++) { const o = { a: i, b: 'x' + i, c: [i] }; if (i % 10 === 0) keep.push(o); }
    keep = null;
    const before = youngResident();
    startIdleGc({ intervalMs: 2000 });
    const t0 = Date.now();
    const hold = setInterval(() => {
      if (youngResident() <= ${YOUNG_RESIDENT_LIMIT} || Date.now() - t0 > 40000) {
        clearInterval(hold);
        console.log(JSON.stringify({ before, after: youngResident(), ms: Date.now() - t0 }));
      }
    }, 250);`;
  const r = spawnSync(process.execPath, [...DAEMON_NODE_FLAGS, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { before: number; after: number; ms: number };
  assert.ok(out.before > YOUNG_RESIDENT_LIMIT, `the burst grew the young generation: ${JSON.stringify(out)}`);
  assert.ok(out.after <= YOUNG_RESIDENT_LIMIT, `it was given back: ${JSON.stringify(out)}`);
});
