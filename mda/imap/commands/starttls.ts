/*
 * STARTTLS (RFC 3501 §6.2.1, RFC 2595): `OK Begin TLS negotiation now.`, then the handshake. Input
 * the client pipelined after the command is discarded (it was sent in clear). Refused when TLS is
 * not configured or already active, with Dovecot's imap-login texts.
 */
import { PRE_LOGIN, type CommandSpec } from '../command.js';
import { taggedResponse } from '../proto/formatter.js';

export const starttlsCommand: CommandSpec = {
  name: 'STARTTLS',
  states: PRE_LOGIN,
  args: { required: [] },
  sync: 'full',
  async run({ session, tag }) {
    if (session.io.tlsActive) return { status: 'BAD', text: 'TLS is already active.' };
    if (!session.deps.tlsConfigured) return { status: 'BAD', text: 'TLS support isn\'t enabled.' };
    session.write(taggedResponse(tag, 'OK', 'Begin TLS negotiation now.'));
    await session.io.startTls();
    return { status: 'OK', text: '', silent: true };
  },
};
