/*
 * Idle SMTP sessions kept for reuse by the next delivery to the same destination (Postfix's
 * scache with smtp_connection_cache_on_demand): an idle session is closed after
 * smtp_connection_cache_time_limit, never reused past smtp_connection_reuse_time_limit since it
 * was opened, nor more than smtp_connection_reuse_count_limit times (0 = no limit). A session
 * that the server closes while idle drops out by itself. Only plaintext sessions are cached unless
 * smtp_tls_connection_reuse = yes (Postfix's default keeps TLS sessions out of the cache too).
 */
import type { Established } from './handshake.js';
import type { Peer } from './handshake.js';

export interface CachedSession {
  est: Established;
  peer: Peer;
  uses: number;
}

interface Entry extends CachedSession {
  timer: NodeJS.Timeout;
}

export class ConnectionCache {
  private readonly idle = new Map<string, Entry[]>();

  constructor(private readonly limits: { timeLimit: number; reuseTimeLimit: number; reuseCountLimit: number }) {}

  /** Stores a session after a clean transaction; closes it instead when it may not be reused. */
  put(key: string, c: CachedSession): void {
    const age = Date.now() - c.est.session.connectedAt;
    if (c.est.session.isClosed || age >= this.limits.reuseTimeLimit || (this.limits.reuseCountLimit > 0 && c.uses >= this.limits.reuseCountLimit)) {
      c.est.session.quit();
      return;
    }
    const timer = setTimeout(() => this.evict(key, entry, true), this.limits.timeLimit);
    timer.unref();
    const entry: Entry = { ...c, timer };
    const list = this.idle.get(key) ?? [];
    list.push(entry);
    this.idle.set(key, list);
    c.est.session.onceClosed(() => this.evict(key, entry, false));
  }

  /** Takes an idle session for the key, if any is still open. */
  take(key: string): CachedSession | undefined {
    const list = this.idle.get(key);
    while (list && list.length > 0) {
      const e = list.pop()!;
      clearTimeout(e.timer);
      if (list.length === 0) this.idle.delete(key);
      if (!e.est.session.isClosed) return { est: e.est, peer: e.peer, uses: e.uses };
    }
    return undefined;
  }

  private evict(key: string, e: Entry, quit: boolean): void {
    clearTimeout(e.timer);
    const list = this.idle.get(key);
    const i = list?.indexOf(e) ?? -1;
    if (list && i >= 0) {
      list.splice(i, 1);
      if (list.length === 0) this.idle.delete(key);
      if (quit) e.est.session.quit();
    }
  }

  get size(): number {
    let n = 0;
    for (const l of this.idle.values()) n += l.length;
    return n;
  }

  closeAll(): void {
    for (const [key, list] of [...this.idle]) for (const e of [...list]) this.evict(key, e, true);
  }
}
