/*
 * LSUB (RFC 3501 §6.3.9): subscribed names matching the pattern, `* LSUB () "." name` as Dovecot
 * prints them; a subscribed child matched through `%` lists its parent as `(\Noselect)`.
 */
import { AUTHENTICATED, OK, type CommandSpec } from '../command.js';
import { formatMailbox, rawName } from '../mailbox-names.js';
import { joinPattern, patternMatcher } from '../list-query.js';
import { formatQuoted } from '../proto/formatter.js';
import { decodeMutf7 } from '../proto/mutf7.js';

export const lsubCommand: CommandSpec = {
  name: 'LSUB',
  states: AUTHENTICATED,
  args: { required: ['astring', 'astring'] },
  sync: 'full',
  async run({ session, args }) {
    const store = session.store!;
    const sep = store.separator;
    const ref = decodeMutf7(rawName(args[0])) ?? '';
    const pat = decodeMutf7(rawName(args[1])) ?? '';
    const match = patternMatcher(joinPattern(ref, pat), sep);
    const subs = await store.subscriptions();
    const shown = new Set<string>();
    for (const name of subs) {
      if (match(name)) {
        if (shown.has(name)) continue;
        shown.add(name);
        session.untagged(`LSUB () ${formatQuoted(sep)} ${formatMailbox(name)}`);
        continue;
      }
      const parts = name.split(sep);
      for (let k = parts.length - 1; k >= 1; k--) {
        const parent = parts.slice(0, k).join(sep);
        if (match(parent) && !shown.has(parent) && !subs.includes(parent)) {
          shown.add(parent);
          session.untagged(`LSUB (\\Noselect) ${formatQuoted(sep)} ${formatMailbox(parent)}`);
          break;
        }
      }
    }
    return OK('Lsub completed.');
  },
};
