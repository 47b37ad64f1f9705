/*
 * Reads what sorting and threading need from the selected mailbox through the storage API: the
 * top-level header fields (through the process-wide content cache, fetch/content-cache.ts, so a
 * repeated SORT/THREAD reads no message file), INTERNALDATE in whole seconds and RFC822.SIZE,
 * once per message. A message
 * expunged meanwhile by another session is left out (Dovecot skips mails it can no longer read).
 */
import type { MailboxView, MessageInfo } from '../../storage/api.js';
import { isStorageError } from '../../storage/api.js';
import { messageHeader } from '../fetch/content-cache.js';
import type { FieldList } from '../message/header.js';

export interface MessageFacts {
  readonly m: MessageInfo;
  readonly header: FieldList;
  readonly arrival: number;
  readonly size: number;
}

export async function collectFacts(view: MailboxView, msgs: readonly MessageInfo[], opts: { size: boolean; arrival: boolean }): Promise<MessageFacts[]> {
  const out: MessageFacts[] = [];
  for (const m of msgs) {
    try {
      const header = { fields: (await messageHeader(view, m)).fields };
      const arrival = opts.arrival ? Math.floor((await view.internalDate(m.uid)).getTime() / 1000) : 0;
      const size = !opts.size ? 0 : m.virtualSize ?? (await view.messageSizes(m.uid)).virtual;
      out.push({ m, header, arrival, size });
    } catch (err) {
      if (isStorageError(err) && err.kind === 'EXPUNGED') continue;
      throw err;
    }
  }
  return out;
}
