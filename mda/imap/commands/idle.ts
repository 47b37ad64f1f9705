/*
 * IDLE (RFC 2177): `+ idling`, then mailbox changes are pushed as they happen (the view's watch()
 * fires on another session's change or an LMTP delivery; a check every mailbox_idle_check_interval,
 * 30 s by default as in Dovecot, backs it up for what fs.watch misses), and
 * `* OK Still here` every imap_idle_notify_interval; `DONE` ends it with `OK Idle completed.`.
 * Anything else than DONE is `BAD Expected DONE.` as Dovecot. Works in the authenticated state too
 * (only keep-alives then), as Dovecot allows.
 * Distrusts: the client line (bounded by the parser's line limit).
 */
import { AUTHENTICATED, type CommandSpec, type Completion } from '../command.js';

export const idleCommand: CommandSpec = {
  name: 'IDLE',
  states: AUTHENTICATED,
  args: { required: [] },
  sync: 'full',
  async run({ session }): Promise<Completion> {
    session.write('+ idling\r\n');
    let wake: (() => void) | undefined;
    // A sync right after `+ idling` when the mailbox may have changed since the session's last one,
    // as Dovecot's IDLE starts with a sync: a change made between the previous command and IDLE (a
    // delivery, the mailbox deleted) was otherwise reported only at the next change or the periodic
    // check. The stamp check (MailboxView.mayHaveChanged) spares the sync when nothing changed.
    // Nothing to sync without a selected mailbox (IDLE in the authenticated state: keep-alives only).
    const first = session.selected?.view;
    let dirty = first !== undefined && (first.mayHaveChanged?.() ?? true);
    const poke = () => {
      dirty = true;
      wake?.();
    };
    const sel = session.selected;
    const unwatch = sel?.view.watch(poke);
    const keepAlive = setInterval(() => {
      session.untagged('OK Still here');
    }, session.settings.imap_idle_notify_interval);
    // It was a 5 s poll: with 2,000 sessions in IDLE, 400 mailbox syncs a second and a mail worker
    // never quiet enough to give its memory back (shared/idle-gc.ts; docs/performance.md).
    const poll = setInterval(poke, session.settings.mailbox_idle_check_interval);
    const line = session.io.readLine();
    let done: string | undefined | null | false = false;
    void line.then((l) => {
      done = l;
      wake?.();
    });
    try {
      for (;;) {
        if (done !== false) break;
        if (dirty) {
          dirty = false;
          // A poke with no mailbox selected (any more) is only cleared: left set, it resolved the
          // wait below at once, a loop of microtasks that never let the process read DONE again.
          if (session.selected !== undefined) await session.announceChanges(false);
          continue;
        }
        await new Promise<void>((resolve) => {
          if (dirty || done !== false) resolve();
          else wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      clearInterval(keepAlive);
      clearInterval(poll);
      unwatch?.();
    }
    const l = done as string | undefined | null;
    if (l === undefined) return { status: 'NO', text: '', silent: true };
    session.stats.in += (l ?? '').length + 2;
    if (l === null || l.toUpperCase() !== 'DONE') return { status: 'BAD', text: 'Expected DONE.' };
    return { text: 'Idle completed.' };
  },
};
