/*
 * QRESYNC resynchronisation pieces (RFC 7162 §3.2.5 SELECT/EXAMINE (QRESYNC …), §3.2.6 UID FETCH
 * (CHANGEDSINCE n VANISHED)): the parameter parser and the `* VANISHED (EARLIER) set` plus
 * `* n FETCH (UID u FLAGS (…) MODSEQ (m))` answers. Expunged UIDs come from the storage's
 * vanishedSince(modseq), limited to the client's known UIDs (default 1:*) and below UIDNEXT; the
 * optional sequence match data is accepted and not needed, since the storage keeps the modseq of
 * every expunge.
 * Distrusts: the parameter list (numbers bounded, sets parsed by proto/sequence-set.ts).
 */
import type { MailboxView } from '../../storage/api.js';
import type { Completion } from '../command.js';
import { ImapSyntaxError } from '../proto/errors.js';
import { parseSequenceSet, rangesContain, type SequenceSet } from '../proto/sequence-set.js';
import type { ImapArg } from '../proto/values.js';
import { formatRuns } from '../search/return-options.js';
import type { ImapSession } from '../session.js';

export interface QresyncParams {
  readonly uidValidity: number;
  readonly modseq: number;
  readonly knownUids: SequenceSet | undefined;
}

const num = (a: ImapArg | undefined, max: number): number => {
  if (a?.type !== 'atom' || !/^[0-9]{1,20}$/.test(a.value) || Number(a.value) > max || Number(a.value) === 0) throw new ImapSyntaxError('Invalid QRESYNC parameters');
  return Number(a.value);
};

/** `(uidvalidity modseq [known-uids [(seqs uids)]])`. */
export function parseQresyncParams(arg: ImapArg | undefined): QresyncParams {
  if (arg?.type !== 'list' || arg.items.length < 2 || arg.items.length > 4) throw new ImapSyntaxError('Invalid QRESYNC parameters');
  const [uv, ms, known, match] = arg.items;
  let knownUids: SequenceSet | undefined;
  if (known !== undefined) {
    if (known.type !== 'atom') throw new ImapSyntaxError('Invalid QRESYNC parameters');
    knownUids = parseSequenceSet(known.value);
  }
  if (match !== undefined && (match.type !== 'list' || match.items.length !== 2)) throw new ImapSyntaxError('Invalid QRESYNC parameters');
  return { uidValidity: num(uv, 0xffffffff), modseq: num(ms, Number.MAX_SAFE_INTEGER), knownUids };
}

function inSet(set: SequenceSet | undefined, uid: number, maxUid: number): boolean {
  if (set === undefined) return true;
  if (set.type === 'saved') return false;
  return rangesContain(set.ranges, uid, maxUid);
}

/** `* VANISHED (EARLIER) …` for UIDs expunged after `modseq` that the client may know. */
export async function sendVanishedEarlier(session: ImapSession, view: MailboxView, modseq: number, known: SequenceSet | undefined): Promise<void> {
  const gone = (await view.vanishedSince(modseq)).filter((u) => u < view.uidNext && inSet(known, u, view.uidNext - 1)).sort((a, b) => a - b);
  if (gone.length > 0) session.untagged(`VANISHED (EARLIER) ${formatRuns(gone)}`);
}

/** SELECT (QRESYNC …): VANISHED (EARLIER), then the flags of messages changed after `modseq`. */
export async function qresyncSelect(session: ImapSession, view: MailboxView, p: QresyncParams): Promise<void> {
  if (p.uidValidity !== view.uidValidity) return;
  await sendVanishedEarlier(session, view, p.modseq, p.knownUids);
  for (const m of view.messages()) {
    if (m.modseq <= p.modseq) continue;
    session.untagged(`${m.seq} FETCH (UID ${m.uid} FLAGS ${session.flagsOf(m)} MODSEQ (${m.modseq}))`);
  }
}

/** EXPUNGE's tagged OK: with QRESYNC enabled it carries [HIGHESTMODSEQ n] (RFC 7162 §3.2.10), as Dovecot's. */
export async function expungeCompleted(session: ImapSession): Promise<Completion> {
  const sel = session.selected;
  if (sel === undefined || !session.enabled.has('QRESYNC')) return { text: 'Expunge completed.' };
  const st = await session.store!.status(sel.view.name);
  return { text: 'Expunge completed.', code: { name: 'HIGHESTMODSEQ', args: String(st.highestModseq) } };
}
