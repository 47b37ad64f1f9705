/*
 * Turns a sequence-set argument into messages of the selected view (RFC 3501 §9 `sequence-set`,
 * RFC 5182 `$`). Sequence numbers beyond EXISTS are `BAD Invalid messageset` as in Dovecot; UIDs
 * that do not exist are skipped (RFC 3501 §6.4.8). `*` is the last sequence number / highest UID.
 * Works by testing each message against the ranges, so `1:4294967295` costs the mailbox size, never
 * the range size.
 */
import type { MessageInfo } from '../storage/api.js';
import { COMMAND_TEXT, ImapSyntaxError } from './proto/errors.js';
import { parseSequenceSet, rangesContain, STAR, type SequenceSet } from './proto/sequence-set.js';
import type { ImapArg } from './proto/values.js';
import type { ImapSession } from './session.js';

export function parseSetArg(arg: ImapArg | undefined): SequenceSet {
  if (arg?.type !== 'atom') throw new ImapSyntaxError(COMMAND_TEXT.invalidMessageset);
  return parseSequenceSet(arg.value);
}

/** The messages a set names, in sequence order. */
export function messagesOf(session: ImapSession, set: SequenceSet, uid: boolean): MessageInfo[] {
  const view = session.selected!.view;
  const all = view.messages();
  if (set.type === 'saved') {
    const saved = new Set(session.savedUids);
    return all.filter((m) => saved.has(m.uid));
  }
  if (uid) {
    const star = all.length > 0 ? all[all.length - 1]!.uid : 0;
    return all.filter((m) => rangesContain(set.ranges, m.uid, star));
  }
  const count = all.length;
  for (const r of set.ranges) {
    if ((r.start !== STAR && r.start > count) || (r.end !== STAR && r.end > count)) {
      // Dovecot: a number beyond EXISTS is an error, except that an empty mailbox with `*` is empty.
      throw new ImapSyntaxError(COMMAND_TEXT.invalidMessageset);
    }
  }
  if (count === 0) return [];
  return all.filter((m) => rangesContain(set.ranges, m.seq, count));
}

/** UIDs a set argument names. */
export function resolveSet(session: ImapSession, arg: ImapArg, uid: boolean): number[] {
  return messagesOf(session, parseSetArg(arg), uid).map((m) => m.uid);
}

/** UIDs as a compact set text (`1:3,7`), RFC 4315 uid-set. */
export function formatUidSet(uids: readonly number[]): string {
  const sorted = [...uids];
  const out: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(i === j ? String(sorted[i]) : `${sorted[i]}:${sorted[j]}`);
    i = j + 1;
  }
  return out.join(',');
}
