/*
 * SELECT (and the shared open for EXAMINE) (RFC 3501 §6.3.1-2, RFC 7162 §3.1.8 `SELECT box (CONDSTORE)`), with the
 * untagged data in Dovecot 2.3's order: FLAGS, PERMANENTFLAGS, EXISTS, RECENT, [UNSEEN n] (only if
 * a message is unseen), [UIDVALIDITY], [UIDNEXT], [HIGHESTMODSEQ] (with CONDSTORE), then
 * `OK [READ-WRITE] Select completed.` / `OK [READ-ONLY] Examine completed.`. Selecting while a
 * mailbox is selected first sends `* OK [CLOSED] Previous mailbox closed.`. A missing mailbox is
 * `NO Mailbox doesn't exist: name` without a response code, as Dovecot answers.
 * With QRESYNC enabled, `(QRESYNC (uidvalidity modseq [known-uids]))` adds VANISHED (EARLIER) and
 * the changed flags after HIGHESTMODSEQ (RFC 7162 §3.2.5; qresync.ts).
 * Distrusts: the optional parameter list (only CONDSTORE and QRESYNC are accepted).
 */
import { AUTHENTICATED, type CommandContext, type CommandSpec, type Completion } from '../command.js';
import { ImapSyntaxError } from '../proto/errors.js';
import { mailboxArg } from '../mailbox-names.js';
import { argAtom } from '../proto/values.js';
import { isStorageError } from '../../storage/api.js';
import { parseQresyncParams, qresyncSelect, type QresyncParams } from './qresync.js';

export async function openMailbox(ctx: CommandContext, readOnly: boolean): Promise<Completion> {
  const { session, args } = ctx;
  const store = session.store!;
  const name = mailboxArg(args[0], store.separator);
  let condstore = session.enabled.has('CONDSTORE');
  let qresync: QresyncParams | undefined;
  const params = args[1];
  if (params !== undefined) {
    if (params.type !== 'list') throw new ImapSyntaxError('Invalid arguments');
    for (let i = 0; i < params.items.length; i++) {
      const a = argAtom(params.items[i])?.toUpperCase();
      if (a === 'CONDSTORE') condstore = true;
      else if (a === 'QRESYNC') {
        if (!session.enabled.has('QRESYNC')) throw new ImapSyntaxError('QRESYNC not enabled');
        qresync = parseQresyncParams(params.items[++i]);
        condstore = true;
      } else throw new ImapSyntaxError(`Unknown select parameter: ${a ?? ''}`.trimEnd());
    }
  }
  if (session.selected !== undefined) {
    await session.unselect();
    session.untagged('OK [CLOSED] Previous mailbox closed.');
  }
  let view;
  try {
    view = await store.openMailbox(name, { readOnly, dropRecent: !readOnly });
  } catch (err) {
    if (isStorageError(err) && err.kind === 'NOTFOUND') return { status: 'NO', text: err.clientText };
    throw err;
  }
  const st = view.status();
  session.selected = { view, readOnly, exists: st.messages, recent: st.recent, condstore };
  session.state = 'selected';
  session.sendFlags();
  session.untagged(`${st.messages} EXISTS`);
  session.untagged(`${st.recent} RECENT`);
  if (st.firstUnseenSeq > 0) session.untagged(`OK [UNSEEN ${st.firstUnseenSeq}] First unseen.`);
  session.untagged(`OK [UIDVALIDITY ${st.uidValidity}] UIDs valid`);
  session.untagged(`OK [UIDNEXT ${st.uidNext}] Predicted next UID`);
  if (condstore) session.untagged(`OK [HIGHESTMODSEQ ${st.highestModseq}] Highest`);
  if (qresync !== undefined) await qresyncSelect(session, view, qresync);
  return readOnly
    ? { text: 'Examine completed.', code: { name: 'READ-ONLY' } }
    : { text: 'Select completed.', code: { name: 'READ-WRITE' } };
}

export const selectCommand: CommandSpec = {
  name: 'SELECT',
  states: AUTHENTICATED,
  args: { required: ['astring'], optional: ['any'], invalid: 'Invalid arguments', missing: 'Invalid arguments' },
  sync: 'no-expunge',
  run: (ctx) => openMailbox(ctx, false),
};
