/*
 * One auth-client connection (Dovecot auth-client-connection.c + auth-request-handler.c): the
 * protocol state machine Postfix's `smtpd_sasl_type = dovecot` and login processes talk to.
 * Transport-free: lines in through handleLine, lines out through io.send, io.close to drop.
 *
 * States: 'version' (handshake sent, waiting for the client's VERSION) → 'cpid' → 'ready'.
 * Dovecot behaviour kept: the handshake is sent on connect; a wrong major version, a missing
 * CPID, an unknown command, a broken AUTH/CONT, a duplicate id, a missing service= or an
 * unsupported mechanism are logged as "BUG: …" and the connection is dropped; invalid base64 gets
 * `FAIL <id> reason=Invalid base64 data in …`; a CONT for an unknown id gets
 * `reason=Authentication request timed out`, for a request not waiting for one
 * `reason=Unexpected continuation`. Failures are held back auth_failure_delay unless nodelay.
 *
 * Distrusts every line and every byte of SASL data; the number of requests in flight is bounded.
 */
import {
  AUTH_CLIENT_MAJOR, AUTH_CLIENT_MINOR, formatServerLine, parseClientLine, type AuthParams, type AuthServerLine,
} from '../../shared/proto/dovecot-auth-client.js';
import { DovecotAuthSyntaxError } from '../../shared/proto/dovecot-auth-errors.js';
import type { KeyValueFields } from '../../shared/proto/tab-escape.js';
import type { AuthOutcome, AuthService, RequestFacts } from './auth-service.js';
import type { Mechanism, MechSession, MechStep } from './mech/types.js';
import { decodeBase64Strict } from './base64.js';
import { sanitize } from './username.js';
import type { AuthLog } from './log.js';

export type ClientConnState = 'version' | 'cpid' | 'ready' | 'closed';

export interface ConnectionIO {
  send(line: string): void;
  close(): void;
}

export interface ClientConnectionDeps {
  service: AuthService;
  mechanisms: readonly Mechanism[];
  /** Our pid as sent in SPID. */
  spid: string;
  /** Connection id (CUID), unique within the process. */
  cuid: number;
  /** 32 hex digits (COOKIE). */
  cookie: string;
  log: AuthLog;
}

interface Pending {
  session: MechSession;
  mech: Mechanism;
  /** 'busy': a step is running; 'cont': waiting for the client's CONT; 'failing': a delayed FAIL is queued. */
  state: 'busy' | 'cont' | 'failing';
}

export class AuthClientConnection {
  state: ClientConnState = 'version';
  private cpid = '0';
  private readonly requests = new Map<number, Pending>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly io: ConnectionIO, private readonly d: ClientConnectionDeps) {}

  /** The lines Dovecot sends as soon as a client connects. */
  handshake(): string[] {
    const lines: AuthServerLine[] = [
      { kind: 'VERSION', major: AUTH_CLIENT_MAJOR, minor: AUTH_CLIENT_MINOR },
      ...this.d.mechanisms.map((m): AuthServerLine => ({ kind: 'MECH', name: m.name, flags: [...m.flags] })),
      { kind: 'SPID', pid: this.d.spid },
      { kind: 'CUID', cuid: String(this.d.cuid) },
      { kind: 'COOKIE', cookie: this.d.cookie },
      { kind: 'DONE' },
    ];
    return lines.map(formatServerLine);
  }

  /** Stops everything: pending timers are cancelled, later results are dropped. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.requests.clear();
    this.io.close();
  }

  private bug(text: string): void {
    this.d.log.error(`BUG: Authentication client ${this.cpid} ${text}`);
    this.close();
  }

  private send(l: AuthServerLine): void {
    if (this.state !== 'closed') this.io.send(formatServerLine(l));
  }

  handleLine(line: string): void {
    if (this.state === 'closed') return;
    let req;
    try {
      req = parseClientLine(line);
    } catch (err) {
      if (!(err instanceof DovecotAuthSyntaxError)) throw err;
      if (this.state === 'version') {
        this.d.log.error('Authentication client not compatible with this server (mixed old and new binaries?)');
        this.close();
      } else this.bug(err.detail);
      return;
    }
    switch (this.state) {
      case 'version':
        if (req.kind !== 'VERSION' || req.major !== AUTH_CLIENT_MAJOR) {
          this.d.log.error('Authentication client not compatible with this server (mixed old and new binaries?)');
          this.close();
          return;
        }
        this.state = 'cpid';
        return;
      case 'cpid':
        if (req.kind !== 'CPID') {
          this.bug('sent unknown handshake command');
          return;
        }
        this.cpid = req.pid;
        this.state = 'ready';
        return;
      case 'ready':
        if (req.kind === 'AUTH') this.auth(req.id, req.mech, req.params);
        else if (req.kind === 'CONT') this.cont(req.id, req.data);
        else this.bug(`sent unknown command: ${sanitize(line)}`);
        return;
    }
  }

  private auth(id: number, mechName: string, params: AuthParams): void {
    const mech = this.d.mechanisms.find((m) => m.name === mechName.toUpperCase());
    if (!mech) {
      this.bug(`requested unsupported authentication mechanism ${sanitize(mechName)}`);
      return;
    }
    if (params.service === undefined) {
      this.bug("didn't specify service in request");
      return;
    }
    if (this.requests.has(id)) {
      this.bug(`sent a duplicate ID ${id}`);
      return;
    }
    if (this.requests.size >= this.d.service.settings.postern_auth_max_pending_requests) {
      this.send({ kind: 'FAIL', id, fields: [['reason', 'Too many pending authentication requests'], ['temp', undefined]] });
      return;
    }
    const facts: RequestFacts = {
      service: params.service,
      ...(params.rip !== undefined ? { rip: params.rip } : {}),
      ...(params.lip !== undefined ? { lip: params.lip } : {}),
      ...(params.rport !== undefined ? { rport: params.rport } : {}),
      ...(params.lport !== undefined ? { lport: params.lport } : {}),
      ...(params.session !== undefined ? { session: params.session } : {}),
      secured: params.secured,
      mech: mech.name,
    };
    const s = this.d.service.settings;
    if (s.postern_auth_enforce_plaintext_policy && s.disable_plaintext_auth && !params.secured && mech.flags.includes('plaintext')) {
      this.send({ kind: 'FAIL', id, fields: [['reason', 'Plaintext authentication disabled.']] });
      return;
    }
    let initial: Buffer | undefined;
    if (params.resp !== undefined && params.resp !== '') {
      initial = decodeBase64Strict(params.resp);
      if (initial === undefined) {
        this.send({ kind: 'FAIL', id, fields: [['reason', 'Invalid base64 data in initial response']] });
        return;
      }
    }
    const pending: Pending = { session: mech.start(this.d.service, facts), mech, state: 'busy' };
    this.requests.set(id, pending);
    this.run(id, pending, initial);
  }

  private cont(id: number, data: string): void {
    const p = this.requests.get(id);
    if (!p) {
      this.send({ kind: 'FAIL', id, fields: [['reason', 'Authentication request timed out']] });
      return;
    }
    if (p.state !== 'cont') {
      this.requests.delete(id);
      this.send({ kind: 'FAIL', id, fields: [['reason', 'Unexpected continuation']] });
      return;
    }
    const buf = decodeBase64Strict(data);
    if (buf === undefined) {
      this.requests.delete(id);
      this.send({ kind: 'FAIL', id, fields: [['reason', 'Invalid base64 data in continued response']] });
      return;
    }
    p.state = 'busy';
    this.run(id, p, buf);
  }

  private run(id: number, p: Pending, data: Buffer | undefined): void {
    p.session.step(data).then(
      (step) => this.result(id, p, step),
      (err: unknown) => {
        this.d.log.error(`auth request ${id} failed: ${(err as Error).message}`);
        this.result(id, p, { kind: 'done', outcome: { kind: 'fail', temp: true, nodelay: false } });
      },
    );
  }

  private result(id: number, p: Pending, step: MechStep): void {
    if (this.state === 'closed' || this.requests.get(id) !== p) return;
    if (step.kind === 'continue') {
      p.state = 'cont';
      this.send({ kind: 'CONT', id, data: step.challenge.toString('base64') });
      return;
    }
    this.finish(id, p, step.outcome);
  }

  private finish(id: number, p: Pending, o: AuthOutcome): void {
    if (o.kind === 'ok') {
      this.requests.delete(id);
      const fields: KeyValueFields = [['user', o.user], ...o.passdbExtra];
      this.send({ kind: 'OK', id, fields });
      return;
    }
    const fields: KeyValueFields = [];
    if (o.user !== undefined) fields.push(['user', o.user]);
    if (o.temp) fields.push(['code', 'temp_fail'], ['reason', 'Temporary authentication failure.'], ['temp', undefined]);
    else {
      if (o.code !== undefined) fields.push(['code', o.code]);
      if (o.reason !== undefined) fields.push(['reason', o.reason]);
    }
    const delay = o.nodelay || o.temp ? 0 : this.d.service.settings.auth_failure_delay;
    if (delay <= 0) {
      this.requests.delete(id);
      this.send({ kind: 'FAIL', id, fields });
      return;
    }
    p.state = 'failing';
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.requests.get(id) !== p) return;
      this.requests.delete(id);
      this.send({ kind: 'FAIL', id, fields });
    }, delay);
    this.timers.add(t);
  }
}
