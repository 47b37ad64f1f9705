/*
 * SASL CRAM-MD5 (RFC 2195) as Dovecot's mech-cram-md5.c: challenge "<random.time@hostname>",
 * response "user SP 32-hex-digest" (split at the last space). Works when the passdb holds a
 * plaintext or a {CRAM-MD5} stored form; any other scheme fails the request.
 *
 * Distrusts the response: malformed → fail; digest compared in constant time.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { cramMd5FromContext } from '../schemes/cram-md5.js';
import type { Mechanism, MechSession, MechStep } from './types.js';
import { failed } from './types.js';

export const cramMd5Mech: Mechanism = {
  name: 'CRAM-MD5',
  flags: ['dictionary', 'active'],
  start(service, facts): MechSession {
    let challenge: Buffer | undefined;
    return {
      async step(data): Promise<MechStep> {
        if (challenge === undefined) {
          const host = service.settings.hostname !== '' ? service.settings.hostname : 'localhost';
          challenge = Buffer.from(`<${randomBytes(8).readBigUInt64BE()}.${Math.floor(Date.now() / 1000)}@${host}>`);
          return { kind: 'continue', challenge };
        }
        const text = (data ?? Buffer.alloc(0)).toString('utf8');
        const sp = text.lastIndexOf(' ');
        if (sp <= 0) return failed();
        const user = text.slice(0, sp);
        const digestHex = text.slice(sp + 1);
        if (!/^[0-9a-fA-F]{32}$/.test(digestHex)) return failed();
        const cred = await service.lookupCredentials(user, 'CRAM-MD5', { ...facts, mech: 'CRAM-MD5' });
        if (cred.kind === 'fail') return { kind: 'done', outcome: cred };
        const want = cramMd5FromContext(cred.secret, challenge);
        if (!timingSafeEqual(want, Buffer.from(digestHex, 'hex'))) return failed(cred.user);
        return { kind: 'done', outcome: { kind: 'ok', user: cred.user, passdbExtra: cred.passdbExtra } };
      },
    };
  },
};
