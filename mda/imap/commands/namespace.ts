/*
 * NAMESPACE (RFC 2342): one personal namespace with an empty prefix, as Dovecot's default inbox
 * namespace: `* NAMESPACE (("" ".")) NIL NIL`.
 */
import { AUTHENTICATED, OK, type CommandSpec } from '../command.js';
import { formatQuoted } from '../proto/formatter.js';

export const namespaceCommand: CommandSpec = {
  name: 'NAMESPACE',
  states: AUTHENTICATED,
  args: { required: [] },
  sync: 'full',
  async run({ session }) {
    session.untagged(`NAMESPACE (("" ${formatQuoted(session.store!.separator)})) NIL NIL`);
    return OK('Namespace completed.');
  },
};
