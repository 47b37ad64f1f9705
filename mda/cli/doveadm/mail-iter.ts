/*
 * Runs a doveadm search query over a user's mailboxes (doveadm-mail-iter.c): the mailboxes the
 * query's `mailbox` / `mailbox-guid` keys select, in the store's list order, each opened through
 * the storage API (read-only unless the command changes messages), and the messages matching the
 * query found with the IMAP search evaluator (mda/imap/search/evaluate.ts).
 * A literal mailbox name that does not exist is silently skipped by fetch/expunge/flags, while
 * `search` reports it (`Couldn't get mailbox 'X' GUID: Mailbox doesn't exist: X`, exit 68), as
 * real doveadm 2.3.19 does.
 */
import { isStorageError, mailboxGuidOf, type MailboxView, type MailStore, type MessageInfo } from '../../storage/api.js';
import { searchMessages } from '../../imap/search/evaluate.js';
import { exitForStorage, EX_TEMPFAIL, type DoveadmContext } from './context.js';
import { selectableMailboxes } from './mailbox.js';
import { keyForMailbox, mailboxExcluded, type DoveadmQuery } from './search-query.js';

export interface IterOptions {
  readonly readOnly: boolean;
  /** Report literal mailbox names that do not exist (search) instead of skipping them. */
  readonly reportMissing?: boolean;
}

export type MailboxVisitor = (view: MailboxView, messages: readonly MessageInfo[], mailboxGuid: string) => Promise<void>;

export async function iterateQuery(ctx: DoveadmContext, user: string, store: MailStore, q: DoveadmQuery, opts: IterOptions, visit: MailboxVisitor): Promise<void> {
  const names = await selectableMailboxes(store);
  if (opts.reportMissing === true) {
    for (const m of q.literalMailboxes) {
      if (names.some((n) => n === m || (n === 'INBOX' && m.toUpperCase() === 'INBOX'))) continue;
      ctx.userError(user, `Couldn't get mailbox '${m}' GUID: Mailbox doesn't exist: ${m}`);
      ctx.fail(68);
      return;
    }
  }
  const usesGuid = JSON.stringify(q.root).includes('"mailbox-guid"');
  for (const name of names) {
    if (!usesGuid && mailboxExcluded(keyForMailbox(q.root, name, '', store.separator))) continue;
    let view: MailboxView;
    try {
      view = await store.openMailbox(name, { readOnly: opts.readOnly });
    } catch (err) {
      if (isStorageError(err) && err.kind === 'NOTFOUND') continue;
      ctx.userError(user, `Couldn't open mailbox ${name}: ${isStorageError(err) ? err.clientText : String(err)}`);
      ctx.fail(isStorageError(err) ? exitForStorage(err.kind) : EX_TEMPFAIL);
      continue;
    }
    try {
      const guid = mailboxGuidOf(view);
      const key = keyForMailbox(q.root, name, guid, store.separator);
      if (mailboxExcluded(key)) continue;
      const found = key.op === 'all' ? [...view.messages()] : await searchMessages({ view, saved: [], now: Date.now() }, key);
      await visit(view, found, guid);
    } finally {
      await view.close();
    }
  }
}
