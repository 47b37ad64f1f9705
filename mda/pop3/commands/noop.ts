/* NOOP (RFC 1939 §5): `+OK`; arguments are ignored, as Dovecot does. */
import type { Pop3Command } from './types.js';

export const noopCommand: Pop3Command = {
  name: 'NOOP',
  states: ['TRANSACTION'],
  async run(s) {
    await s.reply('+OK');
    return 'ok';
  },
};
