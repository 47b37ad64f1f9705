/*
 * The SASL mechanism seam (Dovecot mech.h): a mechanism starts a per-request session that takes
 * the client's data step by step and answers with a challenge or a final outcome. Data is bytes
 * (already base64-decoded by the connection). Sessions hold no sockets and no timers.
 */
import type { MechFlag } from '../../../shared/proto/dovecot-auth-client.js';
import type { AuthOutcome, AuthService, RequestFacts } from '../auth-service.js';

export type MechStep = { kind: 'continue'; challenge: Buffer } | { kind: 'done'; outcome: AuthOutcome };

export interface MechSession {
  /**
   * First call: the initial response, or undefined when the client sent none.
   * Later calls: each CONT's data.
   */
  step(data: Buffer | undefined): Promise<MechStep>;
}

export interface Mechanism {
  readonly name: string;
  readonly flags: readonly MechFlag[];
  start(service: AuthService, facts: RequestFacts): MechSession;
}

export const failed = (user?: string): MechStep => ({
  kind: 'done',
  outcome: { kind: 'fail', temp: false, nodelay: false, ...(user !== undefined ? { user } : {}) },
});
