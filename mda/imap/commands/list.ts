/*
 * LIST (RFC 3501 §6.3.8, RFC 5258 LIST-EXTENDED, RFC 3348 CHILDREN, RFC 6154 SPECIAL-USE, RFC 5819
 * LIST-STATUS) with Dovecot 2.3's answers: attributes in the order \Subscribed, \Noselect or
 * \NonExistent, \HasChildren/\HasNoChildren, special-use; special-use flags are shown on a plain
 * LIST too (Dovecot does); INBOX comes last as Dovecot's maildir++ listing puts it; `LIST "" ""`
 * gives the separator with `\Noselect`. A `%` that stops inside a hierarchy still lists the parent.
 */
import { AUTHENTICATED, OK, type CommandSpec } from '../command.js';
import { formatMailbox } from '../mailbox-names.js';
import { joinPattern, parseListQuery, patternMatcher } from '../list-query.js';
import { formatQuoted } from '../proto/formatter.js';
import { formatStatus } from '../status-items.js';
import type { MailboxListEntry } from '../../storage/api.js';

const SPECIAL = ['\\All', '\\Archive', '\\Drafts', '\\Flagged', '\\Junk', '\\Sent', '\\Trash'];

export const listCommand: CommandSpec = {
  name: 'LIST',
  states: AUTHENTICATED,
  args: { required: ['any', 'any'], rest: true, missing: 'Invalid reference' },
  sync: 'full',
  async run({ session, args }) {
    const store = session.store!;
    const sep = store.separator;
    const q = parseListQuery(args);
    if (q.patterns.length === 1 && q.patterns[0] === '' && !q.extended) {
      session.untagged(`LIST (\\Noselect) ${formatQuoted(sep)} ""`);
      return OK('List completed.');
    }
    const matchers = q.patterns.map((p) => patternMatcher(joinPattern(q.reference, p), sep));
    const match = (n: string) => matchers.some((m) => m(n));
    const entries = await store.list();
    const byName = new Map(entries.map((e) => [e.name, e]));
    const subscribed = new Set(await store.subscriptions());
    const candidates: MailboxListEntry[] = [];
    if (q.selSubscribed) {
      for (const name of subscribed) {
        const e = byName.get(name) ?? { name, separator: sep, attributes: ['\\NonExistent'] };
        candidates.push(e);
      }
    } else candidates.push(...entries);
    const seen = new Set<string>();
    const out: { e: MailboxListEntry; attrs: string[] }[] = [];
    for (const e of candidates) {
      let name = e.name;
      let attrs = [...e.attributes];
      if (!match(name)) {
        // `%` patterns list the parent of a deeper match (RFC 3501 §6.3.8); with RECURSIVEMATCH
        // a subscribed child is noted as CHILDINFO.
        const parts = name.split(sep);
        let found = false;
        for (let k = parts.length - 1; k >= 1 && !found; k--) {
          const parent = parts.slice(0, k).join(sep);
          if (match(parent)) {
            name = parent;
            const pe = byName.get(parent);
            attrs = pe ? [...pe.attributes] : ['\\NonExistent', '\\HasChildren'];
            if (q.selSubscribed && !subscribed.has(parent)) attrs = q.recursiveMatch ? attrs : [];
            found = true;
          }
        }
        if (!found || (q.selSubscribed && !q.recursiveMatch && !subscribed.has(name))) continue;
      }
      if (seen.has(name)) continue;
      seen.add(name);
      out.push({ e: { name, separator: sep, attributes: attrs }, attrs });
    }
    out.sort((a, b) => (a.e.name === 'INBOX' ? 1 : b.e.name === 'INBOX' ? -1 : 0));
    for (const { e, attrs } of out) {
      const isSub = subscribed.has(e.name);
      const special = attrs.filter((a) => SPECIAL.includes(a));
      if (q.selSpecialUse && special.length === 0) continue;
      const shown: string[] = [];
      if ((q.retSubscribed || q.selSubscribed) && isSub) shown.push('\\Subscribed');
      const nonExistent = attrs.includes('\\NonExistent');
      if (attrs.includes('\\Noselect')) shown.push('\\Noselect');
      if (nonExistent) shown.push('\\NonExistent');
      const children = attrs.find((a) => a === '\\HasChildren' || a === '\\HasNoChildren');
      if (children !== undefined && !(q.selSubscribed && nonExistent && !q.retChildren && children === '\\HasNoChildren')) shown.push(children);
      if (!q.extended || q.retSpecialUse || q.selSpecialUse) shown.push(...special);
      session.untagged(`LIST (${shown.join(' ')}) ${formatQuoted(sep)} ${formatMailbox(e.name)}`);
      if (q.retStatus !== undefined && !nonExistent && !attrs.includes('\\Noselect')) {
        try {
          const st = await store.status(e.name);
          session.untagged(`STATUS ${formatMailbox(e.name)} ${formatStatus(st, q.retStatus)}`);
        } catch {
          // RFC 5819: a mailbox whose status cannot be read gets no STATUS line.
        }
      }
    }
    return OK('List completed.');
  },
};
