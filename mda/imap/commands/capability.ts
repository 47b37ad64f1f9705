/*
 * CAPABILITY (RFC 3501 §6.1.1). Pre-login the list depends on the connection (TLS, secured,
 * mechanisms) and the reply says so in Dovecot's words; post-login it is the fixed list of what we
 * implement (capabilities.ts), plus QUOTA when the imap_quota plugin is loaded.
 */
import { ANY_STATE, OK, type CommandSpec } from '../command.js';
import { postLoginCapability } from '../capabilities.js';
import { preLoginCapabilityOf } from '../login-policy.js';

export const capabilityCommand: CommandSpec = {
  name: 'CAPABILITY',
  states: ANY_STATE,
  args: { required: [] },
  sync: 'full',
  async run({ session }) {
    if (session.state === 'not-authenticated') {
      session.untagged(`CAPABILITY ${preLoginCapabilityOf(session)}`);
      return OK('Pre-login capabilities listed, post-login capabilities have more.');
    }
    session.untagged(`CAPABILITY ${postLoginCapability(session.settings)}`);
    return OK('Capability completed.');
  },
};
