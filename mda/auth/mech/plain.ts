/*
 * SASL PLAIN (RFC 4616) as Dovecot's mech-plain.c: "authzid NUL authcid NUL password"; exactly two
 * NULs or the request fails ("invalid input"). No initial response → an empty challenge
 * (`CONT <id> ` on the wire) and the credentials come in the next step.
 *
 * Distrusts the data: any byte sequence; names are decoded as UTF-8 and normalised by the service.
 */
import type { Mechanism, MechSession, MechStep } from './types.js';
import { failed } from './types.js';

export const plainMech: Mechanism = {
  name: 'PLAIN',
  flags: ['plaintext'],
  start(service, facts): MechSession {
    let first = true;
    return {
      async step(data): Promise<MechStep> {
        if (data === undefined && first) {
          first = false;
          return { kind: 'continue', challenge: Buffer.alloc(0) };
        }
        first = false;
        const buf = data ?? Buffer.alloc(0);
        const nul1 = buf.indexOf(0);
        const nul2 = nul1 < 0 ? -1 : buf.indexOf(0, nul1 + 1);
        if (nul1 < 0 || nul2 < 0 || buf.indexOf(0, nul2 + 1) >= 0) return failed();
        const authzid = buf.subarray(0, nul1).toString('utf8');
        const authcid = buf.subarray(nul1 + 1, nul2).toString('utf8');
        const password = buf.subarray(nul2 + 1);
        const outcome = await service.verifyPlain(authcid, password, { ...facts, mech: 'PLAIN' }, authzid);
        return { kind: 'done', outcome };
      },
    };
  },
};
