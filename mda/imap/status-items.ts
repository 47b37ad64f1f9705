/*
 * STATUS data items (RFC 3501 §6.3.10, RFC 7162 HIGHESTMODSEQ, RFC 8438 SIZE), shared by STATUS
 * and LIST-STATUS (RFC 5819). Output follows Dovecot's fixed order whatever the request order:
 * MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ SIZE.
 * Error text for an unknown item is Dovecot's `Invalid status item X`.
 */
import type { MailboxStatus } from '../storage/api.js';
import { ImapSyntaxError } from './proto/errors.js';
import type { ImapArg } from './proto/values.js';

const ORDER = ['MESSAGES', 'RECENT', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'HIGHESTMODSEQ', 'SIZE'] as const;
export type StatusName = (typeof ORDER)[number];

export function parseStatusItems(arg: ImapArg | undefined): StatusName[] {
  if (arg?.type !== 'list') throw new ImapSyntaxError('Status items must be a list');
  const want = new Set<StatusName>();
  for (const a of arg.items) {
    const n = a.type === 'atom' ? a.value.toUpperCase() : '';
    if (!(ORDER as readonly string[]).includes(n)) throw new ImapSyntaxError(`Invalid status item ${n}`);
    want.add(n as StatusName);
  }
  return ORDER.filter((n) => want.has(n));
}

export function formatStatus(st: MailboxStatus, items: readonly StatusName[]): string {
  const v: Record<StatusName, number> = {
    MESSAGES: st.messages, RECENT: st.recent, UIDNEXT: st.uidNext, UIDVALIDITY: st.uidValidity,
    UNSEEN: st.unseen, HIGHESTMODSEQ: st.highestModseq, SIZE: st.size,
  };
  return `(${items.map((n) => `${n} ${v[n]}`).join(' ')})`;
}
