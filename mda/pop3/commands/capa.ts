/*
 * CAPA (RFC 2449 §5) exactly as Dovecot 2.3 lists it. Before login: the fixed list, STLS when TLS is available
 * and not yet active, USER when plaintext auth is allowed here, SASL with the mechanisms this peer may use (an
 * empty `SASL` for an insecure peer with disable_plaintext_auth). After login: the fixed list only.
 */
import type { Pop3Command } from './types.js';

const FIXED = 'CAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\n';

export const capaCommand: Pop3Command = {
  name: 'CAPA',
  states: ['AUTHORIZATION', 'TRANSACTION'],
  async run(s) {
    if (s.state !== 'AUTHORIZATION') {
      await s.send(`+OK\r\n${FIXED}.\r\n`);
      return 'ok';
    }
    let text = `+OK\r\n${FIXED}`;
    if (s.deps.tlsAvailable && !s.tls) text += 'STLS\r\n';
    if (s.plaintextAllowed) text += 'USER\r\n';
    text += `SASL${advertisedMechanisms(s.plaintextAllowed, s.deps.auth.mechanisms()).map((m) => ` ${m}`).join('')}\r\n.\r\n`;
    await s.send(text);
    return 'ok';
  },
};

/** Mechanisms shown to this peer: plaintext ones only where plaintext auth is allowed. */
export function advertisedMechanisms(plaintextAllowed: boolean, mechs: readonly { name: string; plaintext: boolean }[]): string[] {
  return mechs.filter((m) => plaintextAllowed || !m.plaintext).map((m) => m.name);
}
