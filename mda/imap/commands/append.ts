/*
 * APPEND (RFC 3501 §6.3.11) with MULTIAPPEND (RFC 3502: several `[flags] [date] literal` groups in
 * one command), LITERAL+ (RFC 7888) and BINARY's literal8 (RFC 3516), UIDPLUS's
 * `OK [APPENDUID uidvalidity uid-set] Append completed.` (RFC 4315). A missing mailbox is
 * `NO [TRYCREATE] Mailbox doesn't exist: x`; an empty message is Dovecot's `NO Can't save a zero
 * byte message.`. The literal was bounded by postern_imap_max_append_size before it was read.
 * Deviation: the messages of one MULTIAPPEND are saved one by one, not as one transaction.
 * Distrusts: flags (\Recent and unknown system flags refused), the date (parsed strictly).
 */
import { AUTHENTICATED, type CommandSpec } from '../command.js';
import { mailboxArg } from '../mailbox-names.js';
import { formatUidSet } from '../message-set.js';
import { parseImapDateTime } from '../proto/dates.js';
import { ImapSyntaxError } from '../proto/errors.js';
import type { ImapArg } from '../proto/values.js';
import { isStorageError } from '../../storage/api.js';
import { parseFlagList } from '../flags.js';

interface Group {
  flags: string[];
  date: Date | undefined;
  data: Buffer;
}

function groups(args: readonly ImapArg[]): Group[] {
  const out: Group[] = [];
  let i = 1;
  while (i < args.length) {
    let flags: string[] = [];
    let date: Date | undefined;
    let a = args[i]!;
    if (a.type === 'list') {
      flags = parseFlagList(a.items, false);
      a = args[++i]!;
    }
    if (a !== undefined && a.type === 'quoted') {
      const dt = parseImapDateTime(a.value);
      if (dt === undefined) throw new ImapSyntaxError('Invalid internal date.');
      date = new Date(dt.time);
      a = args[++i]!;
    }
    if (a === undefined || a.type !== 'literal') throw new ImapSyntaxError('Invalid arguments.');
    out.push({ flags, date, data: a.bytes });
    i++;
  }
  if (out.length === 0) throw new ImapSyntaxError('Invalid arguments.');
  return out;
}

export const appendCommand: CommandSpec = {
  name: 'APPEND',
  states: AUTHENTICATED,
  args: { required: ['astring', 'any'], rest: true, missing: 'Invalid arguments.' },
  sync: 'full',
  async run({ session, args }) {
    const store = session.store!;
    const name = mailboxArg(args[0], store.separator);
    const gs = groups(args);
    const uids: number[] = [];
    let validity = 0;
    for (const g of gs) {
      if (g.data.length === 0) return { status: 'NO', text: "Can't save a zero byte message." };
      try {
        const r = await store.append(name, g.data, { flags: g.flags, ...(g.date ? { internalDate: g.date } : {}) });
        uids.push(r.uid);
        validity = r.uidValidity;
      } catch (err) {
        if (isStorageError(err) && err.kind === 'NOTFOUND') return { status: 'NO', text: err.clientText, code: { name: 'TRYCREATE' } };
        throw err;
      }
    }
    return { text: 'Append completed.', code: { name: 'APPENDUID', args: `${validity} ${formatUidSet(uids)}` } };
  },
};
