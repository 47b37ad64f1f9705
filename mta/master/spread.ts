/*
 * When the smtpd processes accept (postern_smtpd_processes > 1): the master accepts on the smtpd
 * addresses itself, and the smtpd processes join in only while it is busy.
 *
 * Why: with one client at a time (`smtp-source -s 1`) every message that an smtpd process receives
 * crosses to the master for qmgr and back (the notice, the credit), and wakes an idle process on
 * each side; the rate was 0.69–0.79 of Postfix's there against 0.94 with everything in one process
 * (docs/performance.md, seventh session). Under concurrent load the processes are what makes the
 * rate (1.5–1.8× Postfix's against 1.31× in one process). So: the master alone while there are
 * fewer than `busySessions` SMTP sessions at once (the master's, and any a process still finishes
 * after a pause); from that many on, the smtpd processes accept too (`spread`); once all sessions
 * together have been at most one for `quietMs` (`gather`), they stop accepting again (their sessions
 * in progress go on). Postfix's master likewise starts smtpd processes only as connections wait, though it
 * never retires them early.
 *
 * `busySessions = 0`: the smtpd processes always accept and the master never does.
 *
 * Pure: the caller reports the session count (the master's own plus the processes' last reports)
 * and the time, and acts on the answer.
 */
export type SpreadChange = 'spread' | 'gather';

/** How long the smtpd sessions must have been at most one before the smtpd processes stop accepting. */
export const SPREAD_QUIET_MS = 500;

export class SmtpdSpread {
  private spreading: boolean;
  /** Since when the sessions have been at most one (while spreading). */
  private quietSince: number | undefined;

  constructor(
    private readonly busySessions: number,
    private readonly quietMs = SPREAD_QUIET_MS,
  ) {
    this.spreading = busySessions === 0;
  }

  /** True when the smtpd processes are to accept. */
  get active(): boolean {
    return this.spreading;
  }

  /** True when the master accepts too (always, unless busySessions is 0). */
  get masterAccepts(): boolean {
    return this.busySessions > 0;
  }

  /** The concurrent smtpd sessions are now `n`: the master's own, plus the processes' reports. */
  sessions(n: number, now: number): SpreadChange | undefined {
    if (this.busySessions === 0) return undefined;
    if (!this.spreading) {
      if (n < this.busySessions) return undefined;
      this.spreading = true;
      this.quietSince = undefined;
      return 'spread';
    }
    if (n <= 1) this.quietSince ??= now;
    else this.quietSince = undefined;
    return undefined;
  }

  /** Called every so often while spreading: gathers once the sessions have been quiet long enough. */
  tick(now: number): SpreadChange | undefined {
    if (!this.spreading || this.busySessions === 0 || this.quietSince === undefined) return undefined;
    if (now - this.quietSince < this.quietMs) return undefined;
    this.spreading = false;
    this.quietSince = undefined;
    return 'gather';
  }
}
