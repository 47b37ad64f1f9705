/*
 * Resolves a message-number argument against the maildrop, answering the errors Dovecot's get_msgnum() gives:
 * syntax (proto/numbers.ts), `-ERR There's no message N.`, `-ERR Message is deleted.`.
 * Returns the 0-based index and the rest of the arguments, or undefined after replying.
 */
import { parseMsgnum } from '../proto/numbers.js';
import type { Maildrop } from '../maildrop.js';
import type { Pop3Session } from '../session.js';

export async function messageArg(s: Pop3Session, md: Maildrop, args: string, thenSpace: boolean): Promise<{ index: number; rest: string } | undefined> {
  const p = parseMsgnum(args, thenSpace);
  if (!p.ok) {
    await s.reply(p.reply);
    return undefined;
  }
  if (p.value === 0n || p.value > BigInt(md.count)) {
    await s.reply(`-ERR There's no message ${p.value}.`);
    return undefined;
  }
  const index = Number(p.value) - 1;
  if (md.isDeleted(index)) {
    await s.reply('-ERR Message is deleted.');
    return undefined;
  }
  return { index, rest: p.rest };
}

/** The maildrop of a session in TRANSACTION state (the dispatcher guarantees the state). */
export function maildropOf(s: Pop3Session): Maildrop {
  if (s.maildrop === undefined) throw new Error('POP3 command in TRANSACTION state without a maildrop');
  return s.maildrop;
}
