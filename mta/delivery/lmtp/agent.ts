/*
 * The LMTP delivery agent (Postfix lmtp(8)): delivers one batch of recipients for one next hop over
 * a cached or new LMTP connection and returns one outcome per recipient. Never writes the queue.
 *
 * Connection cache (lmtp_connection_cache_on_demand, lmtp_connection_cache_time_limit,
 * lmtp_connection_reuse_time_limit, lmtp_connection_reuse_count_limit): after a transaction
 * the connection is parked per destination for up to the cache time limit; a parked connection is
 * reused (after RSET) until it reaches the reuse time/count limit, then closed with QUIT.
 * Failures of the connection defer every recipient still open with the Postfix reason (connect
 * errors with relay=none) and mark the request a site failure for qmgr's dead-destination logic.
 * Distrusts the next hop text (target.ts) and the server (session.ts, reply.ts).
 */
import type { DeliveryAgent, DeliveryRequest } from '../api.js';
import type { RecipientOutcome } from '../../queue/types.js';
import { LmtpTargetError, parseLmtpTarget, type LmtpTarget } from './target.js';
import { LmtpSession, LmtpSessionError, type LmtpTimeouts } from './session.js';
import { runTransaction, type Settled } from './transaction.js';

export interface LmtpAgentOptions {
  /** master.cf service name (`lmtp`, `dovecot`, …). */
  transport: string;
  queueDirectory: string;
  myhostname: string;
  /** lmtp_lhlo_name. */
  lhloName: string;
  /** lmtp_tcp_port as a number. */
  defaultPort: number;
  timeouts: LmtpTimeouts;
  /** Milliseconds an idle connection stays cached (lmtp_connection_cache_time_limit); 0 = no cache. */
  cacheTimeLimit: number;
  /** Milliseconds a connection may be reused in total (lmtp_connection_reuse_time_limit). */
  reuseTimeLimit: number;
  /** Transactions per connection, 0 = unlimited (lmtp_connection_reuse_count_limit). */
  reuseCountLimit: number;
}

interface Parked {
  session: LmtpSession;
  timer: NodeJS.Timeout;
}

export class LmtpAgent implements DeliveryAgent {
  readonly transport: string;
  private readonly idle = new Map<string, Parked[]>();
  private closed = false;

  constructor(private readonly o: LmtpAgentOptions) {
    this.transport = o.transport;
  }

  async deliver(req: DeliveryRequest, signal?: AbortSignal): Promise<RecipientOutcome[]> {
    let target: LmtpTarget;
    try {
      target = parseLmtpTarget(req.nexthop, this.o.queueDirectory, this.o.defaultPort);
    } catch (err) {
      if (!(err instanceof LmtpTargetError)) throw err;
      return req.recipients.map((r) => ({ index: r.index, kind: 'deferred', dsnStatus: '4.3.5', reason: err.message, relay: 'none' }));
    }
    const key = target.kind === 'unix' ? `unix:${target.path}` : `inet:${target.host}:${target.port}`;
    const settled: Settled = new Map();
    let session: LmtpSession | undefined;
    try {
      session = await this.reuse(key);
      session ??= await LmtpSession.open(target, this.o.lhloName, this.o.myhostname, this.o.timeouts, signal);
      if (req.report) req.report.setupDoneAt = Date.now();
      const s = session;
      const onAbort = () => s.destroy();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        await runTransaction(s, req, settled);
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
      s.uses++;
      this.park(key, s);
    } catch (err) {
      session?.destroy();
      const e = err instanceof LmtpSessionError ? err : new LmtpSessionError(`${(err as Error).message}`, '4.3.0', session !== undefined);
      if (req.report && e.dsn.startsWith('4.4.')) req.report.siteFailure = true;
      const relay = e.connected && session ? session.relay : 'none';
      for (const r of req.recipients) {
        if (!settled.has(r.index)) settled.set(r.index, { index: r.index, kind: 'deferred', dsnStatus: e.dsn, reason: e.reason, relay });
      }
    }
    return req.recipients.map((r) => settled.get(r.index)!);
  }

  private async reuse(key: string): Promise<LmtpSession | undefined> {
    const list = this.idle.get(key);
    while (list && list.length > 0) {
      const p = list.pop()!;
      clearTimeout(p.timer);
      if (await p.session.rset()) return p.session;
      p.session.destroy();
    }
    return undefined;
  }

  private park(key: string, s: LmtpSession): void {
    const expired = Date.now() - s.openedAt >= this.o.reuseTimeLimit ||
      (this.o.reuseCountLimit > 0 && s.uses >= this.o.reuseCountLimit);
    if (this.closed || this.o.cacheTimeLimit <= 0 || expired || !s.alive) {
      void s.quit();
      return;
    }
    const list = this.idle.get(key) ?? [];
    const entry: Parked = {
      session: s,
      timer: setTimeout(() => {
        const i = list.indexOf(entry);
        if (i >= 0) list.splice(i, 1);
        void s.quit();
      }, this.o.cacheTimeLimit),
    };
    entry.timer.unref?.();
    list.push(entry);
    this.idle.set(key, list);
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.idle.values()].flat();
    this.idle.clear();
    await Promise.all(all.map((p) => {
      clearTimeout(p.timer);
      return p.session.quit();
    }));
  }
}
