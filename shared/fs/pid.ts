/*
 * Whether a process id names a live process, for pid files (master.pid, the Dovecot pid file) and
 * dotlocks that record their owner: signal 0 probes without delivering anything; EPERM means the
 * process exists but belongs to someone else, so it counts as alive (as Postfix's and Dovecot's
 * kill(pid, 0) checks do).
 * Distrusts: nothing; the caller has already parsed the number.
 */

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
