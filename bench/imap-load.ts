/*
 * The IMAP load generator of workload 4: one session per user, each logged in and with INBOX
 * selected before the clock starts, then a closed loop of commands drawn from a fixed mix until the
 * time is up. The mix (weights in MIX) is what a desktop client does to a busy INBOX: envelope
 * listings and body fetches most, flag changes, searches, re-selects, appends, expunges and short
 * IDLEs. Draws come from a seeded generator per session, so both peers see the same sequence.
 * IDLE counts as one command whose latency is the two server turns (IDLE to "+", DONE to OK),
 * not the 20 ms the client dwells in it. The loop runs `warmupSeconds` before the measured
 * `seconds`: commands that start in the warm-up are reported apart (`warmup`), and the CPU meter
 * covers the measured part only.
 */
import { cpuMeter, type CpuUse } from './cpu-meter.js';
import { ImapClient } from './imap-client.js';
import { percentileSorted } from './stats.js';

export type Op = 'fetch-envelopes' | 'fetch-body' | 'store' | 'search' | 'select' | 'append' | 'expunge' | 'idle';

export const MIX: readonly (readonly [Op, number])[] = [
  ['fetch-envelopes', 25],
  ['fetch-body', 20],
  ['store', 15],
  ['search', 10],
  ['select', 5],
  ['append', 10],
  ['expunge', 5],
  ['idle', 10],
];

const SEARCHES = ['UNSEEN', 'FROM "example"', 'SUBJECT "planning"', 'SINCE 1-Jan-2024 NOT DELETED', 'FLAGGED'];
const IDLE_DWELL_MS = 20;

/** mulberry32: small, seeded, the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pickOp(r: number): Op {
  const total = MIX.reduce((s, [, w]) => s + w, 0);
  let x = r * total;
  for (const [op, w] of MIX) {
    if (x < w) return op;
    x -= w;
  }
  return MIX[MIX.length - 1]![0];
}

export interface LoadOptions {
  readonly port: number;
  readonly users: readonly string[];
  readonly password: string;
  readonly seconds: number;
  /** Seconds of the same loop before the measured ones. */
  readonly warmupSeconds: number;
  readonly appendBodies: readonly Buffer[];
}

/** Latency figures of a set of commands (ms). */
export interface LatencyFigures {
  readonly commands: number;
  readonly p50: number;
  readonly p99: number;
}

/** The warm-up's figures, also by operation and by second (where a slow start's time goes). */
export interface WarmupFigures extends LatencyFigures {
  readonly perOp: Readonly<Record<string, { n: number; p50: number; p99: number }>>;
  /** Figures of the commands that started in each second of the warm-up. */
  readonly perSecond: readonly LatencyFigures[];
}

function figures(v: number[]): LatencyFigures {
  v.sort((a, b) => a - b);
  return { commands: v.length, p50: percentileSorted(v, 50), p99: percentileSorted(v, 99) };
}

/** Figures per operation, from the latencies noted per operation. */
function perOpFigures(byOp: Record<string, number[]>): Record<string, { n: number; p50: number; p99: number }> {
  return Object.fromEntries(Object.entries(byOp).map(([op, v]) => {
    const f = figures(v);
    return [op, { n: f.commands, p50: f.p50, p99: f.p99 }];
  }));
}

export interface LoadResult {
  readonly commands: number;
  readonly seconds: number;
  /** Machine CPU during the measured window (the load generator's own included). */
  readonly cpu: CpuUse;
  readonly errors: number;
  readonly firstError?: string;
  readonly p50: number;
  readonly p99: number;
  readonly perOp: Readonly<Record<string, { n: number; p50: number; p99: number }>>;
  /** The commands that started during the warm-up. */
  readonly warmup: WarmupFigures;
  /** When the loop started (process.hrtime, µs: CLOCK_MONOTONIC, as V8's --cpu-prof time stamps). */
  readonly loopStartedUs: number;
}

async function limited<T>(items: readonly T[], limit: number, f: (x: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await f(items[i]!, i);
    }
  }));
}

/** Logs every user in (at most 20 at a time) and selects INBOX. */
export async function openSessions(port: number, users: readonly string[], password: string, select: boolean): Promise<ImapClient[]> {
  const out: ImapClient[] = new Array(users.length);
  await limited(users, 20, async (u, i) => {
    const c = await ImapClient.open(port);
    await c.login(u, password);
    if (select) {
      const r = await c.run('SELECT INBOX');
      if (!r.ok) throw new Error(`SELECT for ${u}: ${r.status}`);
    }
    out[i] = c;
  });
  return out;
}

export async function runImapLoad(o: LoadOptions): Promise<LoadResult> {
  const sessions = await openSessions(o.port, o.users, o.password, true);
  const lat: Record<string, number[]> = {};
  const warm: number[] = [];
  const warmOps: Record<string, number[]> = {};
  const warmSeconds: number[][] = Array.from({ length: Math.ceil(o.warmupSeconds) }, () => []);
  let errors = 0;
  let firstError: string | undefined;
  const loopStartedUs = Number(process.hrtime.bigint() / 1000n);
  const warmupEnd = Date.now() + o.warmupSeconds * 1000;
  const note = (op: Op, ms: number, ok: boolean, status: string): void => {
    const startedAt = Date.now() - ms;
    if (startedAt < warmupEnd) {
      warm.push(ms);
      (warmOps[op] ??= []).push(ms);
      const second = Math.floor((startedAt - (warmupEnd - o.warmupSeconds * 1000)) / 1000);
      warmSeconds[Math.max(0, Math.min(warmSeconds.length - 1, second))]?.push(ms);
    } else (lat[op] ??= []).push(ms);
    if (!ok) {
      errors++;
      firstError ??= `${op}: ${status}`;
    }
  };
  // The clock and the CPU meter of the measured part start when the warm-up ends.
  let started = process.hrtime.bigint();
  let cpuEnd = cpuMeter();
  const measuring = setTimeout(() => {
    started = process.hrtime.bigint();
    cpuEnd = cpuMeter();
  }, o.warmupSeconds * 1000);
  const end = warmupEnd + o.seconds * 1000;
  await Promise.all(sessions.map(async (c, si) => {
    const rnd = prng(1000 + si);
    let flip = false;
    while (Date.now() < end) {
      const op = pickOp(rnd());
      const n = Math.max(1, c.exists);
      const at = 1 + Math.floor(rnd() * n);
      switch (op) {
        case 'fetch-envelopes': {
          const from = Math.max(1, at - 19);
          const r = await c.run(`FETCH ${from}:${at} (UID FLAGS ENVELOPE INTERNALDATE RFC822.SIZE)`);
          note(op, r.ms, r.ok, r.status);
          break;
        }
        case 'fetch-body': {
          const r = await c.run(`FETCH ${at} (UID BODY.PEEK[])`);
          note(op, r.ms, r.ok, r.status);
          break;
        }
        case 'store': {
          flip = !flip;
          const r = await c.run(flip ? `STORE ${at} +FLAGS (\\Seen)` : `STORE ${at} -FLAGS (\\Flagged)`);
          note(op, r.ms, r.ok, r.status);
          break;
        }
        case 'search': {
          const r = await c.run(`SEARCH ${SEARCHES[Math.floor(rnd() * SEARCHES.length)]!}`);
          note(op, r.ms, r.ok, r.status);
          break;
        }
        case 'select': {
          const r = await c.run('SELECT INBOX');
          note(op, r.ms, r.ok, r.status);
          break;
        }
        case 'append': {
          const b = o.appendBodies[Math.floor(rnd() * o.appendBodies.length)]!;
          const r = await c.run('APPEND INBOX (\\Seen)', b);
          note(op, r.ms, r.ok, r.status);
          break;
        }
        case 'expunge': {
          if (c.exists === 0) break;
          const s = await c.run(`STORE ${c.exists} +FLAGS.SILENT (\\Deleted)`);
          note('store', s.ms, s.ok, s.status);
          const r = await c.run('EXPUNGE');
          note(op, r.ms, r.ok, r.status);
          break;
        }
        case 'idle': {
          const a = await c.idle();
          await new Promise((r) => setTimeout(r, IDLE_DWELL_MS));
          const b = await c.done();
          note(op, a + b, true, '');
          break;
        }
      }
    }
  }));
  clearTimeout(measuring);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = cpuEnd();
  await Promise.all(sessions.map(async (c) => {
    await c.run('LOGOUT', undefined, 10_000).catch(() => undefined);
    c.close();
  }));
  const all = Object.values(lat).flat().sort((a, b) => a - b);
  return {
    commands: all.length,
    seconds,
    cpu,
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
    p50: percentileSorted(all, 50),
    p99: percentileSorted(all, 99),
    perOp: perOpFigures(lat),
    loopStartedUs,
    warmup: {
      ...figures(warm),
      perOp: perOpFigures(warmOps),
      perSecond: warmSeconds.map(figures),
    },
  };
}
