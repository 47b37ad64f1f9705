/*
 * ENABLE (RFC 5161; CONDSTORE and QRESYNC, RFC 7162): `* ENABLED` lists what was newly enabled among what we implement
 * (capabilities.ts ENABLEABLE); unknown names are ignored and nothing new means no untagged
 * reply, as Dovecot does.
 */
import { AUTHENTICATED, OK, type CommandSpec } from '../command.js';
import { ENABLEABLE } from '../capabilities.js';
import { argAtom } from '../proto/values.js';

export const enableCommand: CommandSpec = {
  name: 'ENABLE',
  states: AUTHENTICATED,
  args: { required: [], rest: true },
  sync: 'full',
  async run({ session, args }) {
    const newly: string[] = [];
    for (const a of args) {
      const n = argAtom(a)?.toUpperCase();
      if (n === undefined || !ENABLEABLE.includes(n) || session.enabled.has(n)) continue;
      session.enabled.add(n);
      newly.push(n);
      // QRESYNC implies CONDSTORE (RFC 7162 §3.2.3); only the names asked for are listed.
      if (n === 'QRESYNC') session.enabled.add('CONDSTORE');
      if ((n === 'CONDSTORE' || n === 'QRESYNC') && session.selected !== undefined) session.selected.condstore = true;
    }
    if (newly.length > 0) session.untagged(`ENABLED ${newly.join(' ')}`);
    return OK('Enabled.');
  },
};
