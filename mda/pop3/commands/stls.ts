/*
 * STLS (RFC 2595 §4): `+OK Begin TLS negotiation now.`, then the handshake; input the client pipelined after
 * STLS is discarded by the transport. Refusals as Dovecot: `-ERR TLS is already active.`, `-ERR TLS support
 * isn't enabled.`. A failed handshake ends the connection.
 */
import type { Pop3Command } from './types.js';

export const stlsCommand: Pop3Command = {
  name: 'STLS',
  states: ['AUTHORIZATION'],
  async run(s) {
    if (s.tls) {
      await s.reply('-ERR TLS is already active.');
      return 'ok';
    }
    if (!s.deps.tlsAvailable) {
      await s.reply('-ERR TLS support isn\'t enabled.');
      return 'ok';
    }
    await s.reply('+OK Begin TLS negotiation now.');
    try {
      await s.io.startTls();
    } catch (err) {
      await s.closeLogin(`TLS handshaking: ${err instanceof Error ? err.message : String(err)}`);
      return 'ok';
    }
    s.tls = true;
    return 'ok';
  },
};
