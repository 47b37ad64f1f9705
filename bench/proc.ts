/*
 * Process-tree accounting for the memory workload: every descendant of a daemon's root process
 * (Dovecot's master with imap-login, imap, auth, anvil, log, config …; our single Node process),
 * found through /proc/<pid>/stat parent links, and their resident memory: VmRSS from
 * /proc/<pid>/status (the figure asked for; counts shared library pages once per process) and Pss
 * from /proc/<pid>/smaps_rollup (shared pages divided among their users: the fairer sum).
 * Processes that exit while being read are skipped.
 */
import { readdirSync, readFileSync } from 'node:fs';

function parentOf(pid: number): number | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: fields after the last ')'.
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(rest[1]);
  } catch {
    return undefined;
  }
}

/** The root and all its descendants. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    const pp = parentOf(pid);
    if (pp === undefined) continue;
    const list = children.get(pp) ?? [];
    list.push(pid);
    children.set(pp, list);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

function kbField(text: string, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

export interface TreeMemory {
  readonly processes: number;
  readonly rssKiB: number;
  readonly pssKiB: number;
}

export function treeMemory(root: number): TreeMemory {
  let processes = 0;
  let rssKiB = 0;
  let pssKiB = 0;
  for (const pid of processTree(root)) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      rssKiB += kbField(status, 'VmRSS');
      pssKiB += kbField(rollup, 'Pss');
      processes++;
    } catch {
      // exited meanwhile
    }
  }
  return { processes, rssKiB, pssKiB };
}

/** CPU time (user+system, seconds) used so far by the tree's live processes. */
export function treeCpuSeconds(root: number): number {
  const hz = 100;
  let ticks = 0;
  for (const pid of processTree(root)) {
    try {
      const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
      ticks += Number(rest[11]) + Number(rest[12]);
    } catch {
      // exited
    }
  }
  return ticks / hz;
}

/** The process's start time in clock ticks since boot (field 22 of stat); undefined when gone. */
export function startTime(pid: number): string | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** SIGKILL only when `pid` is still the process that had `start` (pids get reused). */
export function killIfSame(pid: number, start: string | undefined): void {
  if (start === undefined || startTime(pid) !== start) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}
