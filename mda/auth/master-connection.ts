/*
 * One auth-userdb / auth-master connection (Dovecot auth-master-connection.c): what LMTP, LDA,
 * doveadm and mail processes use to look users up. Transport-free like client-connection.ts.
 *
 * States: 'version' (VERSION 1 1 and SPID sent on connect; the client's VERSION must come first)
 * → 'ready'. USER → `USER <id> <user> <fields>` | `NOTFOUND <id>` | `FAIL <id> reason=…`;
 * PASS → `PASS <id> user=<user> <passdb fields>` (password never included); LIST [user=<mask>] →
 * `LIST <id> <user>`… then `DONE <id>\t` (`DONE <id>\tfail` on error); REQUEST (login hand-off,
 * which Postern's in-process login does not need) → `FAIL <id>`; CPID is accepted and ignored.
 * Unknown commands, broken lines and a wrong major version: "BUG: …" logged, disconnect.
 *
 * Distrusts every line. Not done (Node cannot read SO_PEERCRED): Dovecot's check that a caller
 * on a 0666 auth-userdb socket only gets replies for its own uid.
 */
import { AUTH_MASTER_MAJOR, AUTH_MASTER_MINOR, formatMasterReply, parseMasterRequest, type AuthMasterReply } from '../../shared/proto/dovecot-auth-master.js';
import { DovecotAuthSyntaxError } from '../../shared/proto/dovecot-auth-errors.js';
import { fieldValue, type KeyValueFields } from '../../shared/proto/tab-escape.js';
import type { AuthService, RequestFacts } from './auth-service.js';
import type { ConnectionIO } from './client-connection.js';
import { sanitize } from './username.js';
import type { AuthLog } from './log.js';

export type MasterConnState = 'version' | 'ready' | 'closed';

export interface MasterConnectionDeps {
  service: AuthService;
  spid: string;
  log: AuthLog;
}

/** Dovecot's wildcard_match: '*' any run, '?' one character. */
export function wildcardMatch(text: string, mask: string): boolean {
  const re = new RegExp(`^${mask.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
  return re.test(text);
}

function factsOf(params: KeyValueFields): RequestFacts {
  const v = (k: string): string | undefined => fieldValue(params, k);
  const f: RequestFacts = { service: v('service') ?? '' };
  for (const k of ['rip', 'lip', 'rport', 'lport', 'session'] as const) {
    const x = v(k);
    if (x !== undefined) f[k] = x;
  }
  return f;
}

export class AuthMasterConnection {
  state: MasterConnState = 'version';
  private inFlight = 0;

  constructor(private readonly io: ConnectionIO, private readonly d: MasterConnectionDeps) {}

  handshake(): string[] {
    return [
      formatMasterReply({ kind: 'VERSION', major: AUTH_MASTER_MAJOR, minor: AUTH_MASTER_MINOR }),
      formatMasterReply({ kind: 'SPID', pid: this.d.spid }),
    ];
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.io.close();
  }

  private send(r: AuthMasterReply): void {
    if (this.state !== 'closed') this.io.send(formatMasterReply(r));
  }

  private bug(text: string): void {
    this.d.log.error(`BUG: Master client ${text}`);
    this.close();
  }

  handleLine(line: string): void {
    if (this.state === 'closed') return;
    let req;
    try {
      req = parseMasterRequest(line);
    } catch (err) {
      if (!(err instanceof DovecotAuthSyntaxError)) throw err;
      this.bug(err.detail);
      return;
    }
    if (this.state === 'version') {
      if (req.kind !== 'VERSION' || req.major !== AUTH_MASTER_MAJOR) {
        this.d.log.error('Master not compatible with this server (mixed old and new binaries?)');
        this.close();
        return;
      }
      this.state = 'ready';
      return;
    }
    if (req.kind === 'CPID') return;
    if (req.kind === 'VERSION' || req.kind === 'UNKNOWN') {
      this.bug(`sent unknown command: ${sanitize(line)}`);
      return;
    }
    if (this.inFlight >= this.d.service.settings.postern_auth_max_pending_requests) {
      this.send({ kind: 'FAIL', id: req.id, fields: [['reason', 'Too many pending requests']] });
      return;
    }
    this.inFlight++;
    const done = (): void => {
      this.inFlight--;
    };
    const onError = (id: number) => (err: unknown): void => {
      this.d.log.error(`auth-master request ${id} failed: ${(err as Error).message}`);
      this.send({ kind: 'FAIL', id, fields: [['reason', 'Internal error occurred. Refer to server log for more information.']] });
    };
    switch (req.kind) {
      case 'USER': {
        const { id, user } = req;
        this.d.service.userLookup(user, factsOf(req.params)).then((r) => {
          if (r.kind === 'found') this.send({ kind: 'USER', id, user: r.user, fields: r.fields });
          else if (r.kind === 'notfound') this.send({ kind: 'NOTFOUND', id });
          else this.send({ kind: 'FAIL', id, fields: [['reason', 'Internal error occurred. Refer to server log for more information.']] });
        }, onError(id)).finally(done);
        return;
      }
      case 'PASS': {
        const { id, user } = req;
        this.d.service.passLookup(user, factsOf(req.params)).then((r) => {
          if (r.kind === 'found') {
            const extra = r.extra.filter(([k]) => k !== 'password' && k !== 'user');
            this.send({ kind: 'PASS', id, fields: [['user', fieldValue(r.extra, 'user') || r.user], ...extra] });
          } else if (r.kind === 'notfound') this.send({ kind: 'NOTFOUND', id });
          else this.send({ kind: 'FAIL', id, fields: [['reason', 'Internal error occurred. Refer to server log for more information.']] });
        }, onError(id)).finally(done);
        return;
      }
      case 'LIST': {
        const { id } = req;
        const mask = fieldValue(req.params, 'user');
        void (async () => {
          try {
            for await (const u of this.d.service.listUsers()) {
              if (this.state === 'closed') return;
              if (mask === undefined || wildcardMatch(u, mask)) this.send({ kind: 'LIST', id, user: u });
            }
            this.send({ kind: 'DONE', id, failed: false });
          } catch (err) {
            this.d.log.error(`auth-master LIST failed: ${(err as Error).message}`);
            this.send({ kind: 'DONE', id, failed: true });
          }
        })().finally(done);
        return;
      }
      case 'REQUEST':
        this.send({ kind: 'FAIL', id: req.id, fields: [] });
        done();
        return;
    }
  }
}
