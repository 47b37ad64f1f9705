/*
 * smtp(8): the outbound SMTP delivery agent (transports `smtp` and `relay` in master.cf).
 * One request = one message and a batch of recipients for one next hop; returns one outcome per
 * recipient and never touches the queue (mta/delivery/api.ts).
 *
 * Per request: the destination (next hop, else relayhost, else the recipient domain; a list is
 * tried in order) → its TLS policy (smtp_tls_policy_maps, else smtp_tls_security_level) → DNS
 * (route.ts) → the addresses in order, at most smtp_mx_address_limit, and at most
 * smtp_mx_session_limit servers that answered (connect failures do not count, as in Postfix).
 * A recipient still open after a soft error (4xx at RCPT, a site failure, a lost connection) is
 * offered to the next server; whatever is open at the end is deferred with its last reason.
 * A failed opportunistic (may) TLS handshake is retried once on a new plaintext connection.
 * Sessions left clean are cached for the next request to the same destination.
 *
 * Client: Postern's own (session.ts, handshake.ts, transaction.ts), not nodemailer's
 * smtp-connection, because Postfix's behaviour needs what that client does not expose: per-stage
 * deadlines with Postfix's stage names in the reason texts, replies kept verbatim per recipient
 * with pipelined MAIL/RCPT/DATA, bounded reply buffering against hostile servers, control over the
 * plaintext fall-back and certificate policy after STARTTLS, and RSET-checked session reuse.
 *
 * Content not declared 7BIT that goes to a server without 8BITMIME is MIME-downgraded as Postfix
 * does (8bit/binary parts to quoted-printable; mime-8to7.ts), unless disable_mime_output_conversion.
 *
 * Differences from Postfix (documented): dane levels degrade to may/encrypt (no DNSSEC); no
 * smtp_fallback_relay, smtp_generic_maps, smtp_header_checks, XFORWARD or BDAT; no
 * smtp_line_length_limit folding of long lines.
 */
import { networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import type { PostfixConfig } from '../../../shared/config/postfix/config.js';
import { openTable } from '../../../shared/config/tables/registry.js';
import type { LookupTable } from '../../../shared/config/tables/table.js';
import type { Log } from '../../../shared/log/logger.js';
import type { DeliveryAgent, DeliveryRecipient, DeliveryRequest } from '../api.js';
import type { RecipientOutcome } from '../../queue/types.js';
import { mtaEvents, type DeliveryStatus } from '../../log-events.js';
import { ConnectionCache } from './connection-cache.js';
import { nodeDns, type SmtpDns } from './dns.js';
import { handshake, namaddrOf, relayOf, type Established, type Peer } from './handshake.js';
import type { Random } from './mx-order.js';
import { chooseDestination, NextHopError, parseNextHops, type NextHop } from './nexthop.js';
import { connectFailure, localFailure, type Failure } from './reasons.js';
import { resolveRoute } from './route.js';
import { parseCredentials, passwordKeys, type SaslCredentials } from './sasl-client.js';
import { SessionError, SmtpSession } from './session.js';
import { smtpSettings, type SmtpSettings } from './settings.js';
import { loadTrustAnchors } from './tls-client.js';
import { defaultPolicy, parsePolicyValue, policyKeys, TlsPolicyError, type TlsPolicy } from './tls-policy.js';
import { runTransaction } from './transaction.js';

export interface SmtpAgentOptions {
  /** The configuration (with master.cf -o overrides applied); or `settings` directly. */
  config?: PostfixConfig;
  settings?: SmtpSettings;
  /** The smtp or relay program's logger (outcome lines, TLS lines). */
  log: Log;
  /** master.cf service name; default `smtp`. */
  transport?: string;
  /** DNS access; default: Node's resolver with postern_dns_servers. */
  dns?: SmtpDns;
  /** Own addresses for loop detection; default from inet_interfaces/proxy_interfaces. */
  ownAddresses?: readonly string[];
  /** Opens lookup tables (smtp_tls_policy_maps, smtp_sasl_password_maps); default openTable. */
  openTable?: (spec: string) => LookupTable;
  /** Write the per-recipient `to=<…>, relay=…, status=…` lines (Postfix's smtp does); default true. */
  logOutcomes?: boolean;
  random?: Random;
  now?: () => number;
}

interface Open {
  failure?: Failure;
  relay: string;
}

/** Optional progress report of api.ts (read structurally so this file builds against either version). */
interface ReportSink {
  setupDoneAt?: number;
  siteFailure?: boolean;
}

function ownAddressSet(s: SmtpSettings, given: readonly string[] | undefined): Set<string> {
  if (given) return new Set(given);
  const out = new Set<string>();
  const add = (list: string[]): void => {
    for (const item of list) {
      const x = item.toLowerCase();
      if (x === 'all') {
        for (const ifs of Object.values(networkInterfaces())) for (const i of ifs ?? []) out.add(i.address);
      } else if (x === 'loopback-only') {
        out.add('127.0.0.1');
        out.add('::1');
      } else if (isIP(x.replace(/^\[|\]$/g, '')) !== 0) {
        out.add(x.replace(/^\[|\]$/g, ''));
      }
    }
  };
  add(s.inetInterfaces);
  add(s.proxyInterfaces);
  return out;
}

export function createSmtpAgent(o: SmtpAgentOptions): DeliveryAgent {
  if (!o.settings && !o.config) throw new Error('createSmtpAgent: config or settings required');
  const settings = o.settings ?? smtpSettings(o.config!);
  const transport = o.transport ?? 'smtp';
  const log = o.log;
  const now = o.now ?? Date.now;
  const dns = o.dns ?? nodeDns({ servers: settings.dnsServers });
  const own = ownAddressSet(settings, o.ownAddresses);
  const open = o.openTable ?? ((spec: string) => openTable(spec));
  const cache = new ConnectionCache(settings.cache);
  const cacheOn = settings.cache.onDemand || settings.cache.destinations.length > 0;
  let tables: { policy: LookupTable[]; sasl: LookupTable[] } | undefined;
  let anchors: string[] | undefined;
  let closed = false;

  const getTables = (): { policy: LookupTable[]; sasl: LookupTable[] } => {
    tables ??= {
      policy: settings.tls.policyMaps.map(open),
      sasl: settings.sasl.enable ? settings.sasl.passwordMaps.map(open) : [],
    };
    return tables;
  };
  const trustAnchors = (): string[] => (anchors ??= loadTrustAnchors(settings.tls.caFile, settings.tls.caPath));

  const lookup = (maps: LookupTable[], keys: string[]): string | undefined => {
    for (const k of keys) for (const m of maps) {
      const v = m.lookup(k);
      if (v !== undefined) return v;
    }
    return undefined;
  };

  const policyFor = (hop: NextHop): TlsPolicy => {
    const v = lookup(getTables().policy, policyKeys(hop.text, hop.host, hop.mx));
    return v === undefined ? defaultPolicy(settings.tls) : parsePolicyValue(v, settings.tls);
  };

  const outcomeLine = (req: DeliveryRequest, r: DeliveryRecipient, status: DeliveryStatus, relay: string, dsn: string, reason: string, start: number, setup: number | undefined): void => {
    if (o.logOutcomes === false) return;
    const end = now();
    const a = Math.max(0, (start - req.arrivalTime) / 1000);
    const c = setup === undefined ? (end - start) / 1000 : (setup - start) / 1000;
    const d = setup === undefined ? 0 : (end - setup) / 1000;
    log.info(mtaEvents.delivery.outcome({
      queueId: req.queueId,
      to: r.address,
      ...(r.originalAddress !== undefined && r.originalAddress !== r.address ? { origTo: r.originalAddress } : {}),
      relay,
      delay: Math.max(0, (end - req.arrivalTime) / 1000),
      delays: [a, 0, Math.max(0, c), Math.max(0, d)],
      dsn,
      status,
      reason,
    }));
  };

  async function deliver(req: DeliveryRequest, signal?: AbortSignal): Promise<RecipientOutcome[]> {
    const start = now();
    const report = (req as { report?: ReportSink }).report;
    const pending = new Map<number, DeliveryRecipient>(req.recipients.map((r) => [r.index, r]));
    const state = new Map<number, Open>(req.recipients.map((r) => [r.index, { relay: 'none' }]));
    const outcomes = new Map<number, RecipientOutcome>();
    let setupDoneAt: number | undefined;
    let anySession = false;
    let lastFailure: Failure | undefined;
    let lastRelay = 'none';

    const settle = (r: DeliveryRecipient, oc: RecipientOutcome, status: DeliveryStatus, text: string): void => {
      outcomes.set(r.index, oc);
      pending.delete(r.index);
      outcomeLine(req, r, status, oc.relay ?? 'none', oc.dsnStatus, text, start, setupDoneAt);
    };
    const fail = (r: DeliveryRecipient, f: Failure, relay: string): void => {
      if (f.permanent) settle(r, { index: r.index, kind: 'bounced', dsnStatus: f.dsn, reason: f.reason, relay }, 'bounced', f.reason);
      else state.set(r.index, { failure: f, relay });
    };
    const failAll = (f: Failure, relay: string): void => {
      for (const r of [...pending.values()]) fail(r, f, relay);
      lastFailure = f;
      lastRelay = relay;
    };

    /** One transaction on an established session; returns whether the session may be cached. */
    const transact = async (est: Established, peer: Peer): Promise<boolean> => {
      setupDoneAt ??= now();
      anySession = true;
      const list = [...pending.values()];
      const tx = await runTransaction({ session: est.session, ehlo: est.ehlo, namaddr: namaddrOf(peer), req, recipients: list, timeouts: settings.timeouts,
        ...(settings.disableMimeOutputConversion ? {} : { mime: settings.mime }),
      });
      const relay = relayOf(peer);
      for (const r of list) {
        const res = tx.results.get(r.index);
        if (res === undefined) continue;
        if (res.kind === 'delivered') settle(r, { index: r.index, kind: 'delivered', dsnStatus: res.dsn, reply: res.reply, relay }, 'sent', res.reply);
        else {
          fail(r, res.failure, relay);
          if (!res.failure.permanent) {
            lastFailure = res.failure;
            lastRelay = relay;
          }
        }
      }
      return tx.reusable;
    };

    const finishSession = (key: string, est: Established, peer: Peer, reusable: boolean, uses: number): void => {
      if (reusable && cacheOn && !closed && (!est.tls || settings.tls.connectionReuse)) cache.put(key, { est, peer, uses });
      else est.session.quit();
    };

    /** Connects to one address and runs the session. Returns false when it did not get a greeting. */
    const attempt = async (peer: Peer, hop: NextHop, policy: TlsPolicy, key: string, noTls: boolean): Promise<'connect-failed' | 'done' | 'retry-plain'> => {
      let s: SmtpSession;
      const family = isIP(peer.addr);
      const bind = family === 6 ? settings.bindAddress6 : settings.bindAddress;
      try {
        s = await SmtpSession.connect({
          addr: peer.addr,
          port: peer.port,
          timeoutMs: settings.timeouts.connect,
          limits: { lineLimit: settings.lineLimit, textLimit: settings.lineLimit, maxLines: 1000 },
          ...(bind !== '' ? { localAddress: bind } : {}),
          ...(signal ? { signal } : {}),
        });
      } catch (err) {
        const f = connectFailure(peer.host, peer.addr, peer.port, err instanceof SessionError ? err.detail : String(err));
        // No session, so no relay: Postfix logs `relay=none` for a deferral after a failed connect.
        for (const r of pending.values()) state.set(r.index, { failure: f, relay: 'none' });
        lastFailure = f;
        lastRelay = 'none';
        return 'connect-failed';
      }
      const hs = await handshake(s, peer, {
        settings,
        policy,
        noTls,
        trustAnchors: policy.level === 'may' || policy.level === 'none' ? [] : trustAnchors(),
        nexthopHost: hop.host,
        queueId: req.queueId,
        credentials: (p) => credentials(req, hop, p),
        log,
      });
      if (!hs.ok) {
        s.quit();
        if (hs.retryPlain) return 'retry-plain';
        failAll(hs.failure, relayOf(peer));
        return 'done';
      }
      const reusable = await transact(hs.value, peer);
      finishSession(key, hs.value, peer, reusable, 1);
      return 'done';
    };

    const credentials = (r: DeliveryRequest, hop: NextHop, peer: Peer): SaslCredentials | undefined => {
      const v = lookup(getTables().sasl, passwordKeys({ sender: r.sender, senderDependent: settings.sasl.senderDependent, host: peer.host, nexthopText: hop.text }));
      return v === undefined ? undefined : parseCredentials(v);
    };

    try {
      const dest = chooseDestination(req.nexthop, settings.relayhost, req.recipients[0]?.address ?? '');
      const hops = parseNextHops(dest, settings.defaultPort);
      if (hops.length === 0) failAll(localFailure('4.3.5', `no destination for transport ${transport}`), 'none');
      let sessions = 0;
      for (const hop of hops) {
        if (pending.size === 0 || signal?.aborted) break;
        const policy = policyFor(hop);
        const key = `${transport}:${hop.text}:${policy.level}`;
        // A cached session first (checked with RSET, as Postfix does before reuse).
        const cached = cache.take(key);
        if (cached) {
          const ok = await cached.est.session
            .write('RSET\r\n', settings.timeouts.rset)
            .then(() => cached.est.session.read(settings.timeouts.rset))
            .then((r) => r.code >= 200 && r.code < 300)
            .catch(() => false);
          if (ok) {
            sessions++;
            const reusable = await transact(cached.est, cached.peer);
            finishSession(key, cached.est, cached.peer, reusable, cached.uses + 1);
            if (pending.size === 0) break;
          } else {
            cached.est.session.destroy();
          }
        }
        const route = await resolveRoute(hop, {
          dns,
          protocols: settings.protocols,
          addressLimit: settings.mxAddressLimit,
          isOwn: (a) => own.has(a),
          defaultPort: settings.defaultPort,
          randomize: settings.randomizeAddresses,
          balance: settings.balanceInetProtocols,
          ...(o.random ? { random: o.random } : {}),
        });
        if (route.kind === 'fail') {
          failAll({ dsn: route.dsn, reason: route.reason, permanent: route.permanent }, 'none');
          continue;
        }
        for (const target of route.targets) {
          if (pending.size === 0 || signal?.aborted) break;
          if (settings.mxSessionLimit > 0 && sessions >= settings.mxSessionLimit) break;
          const peer: Peer = { host: target.host, addr: target.addr, port: hop.port };
          let r = await attempt(peer, hop, policy, key, false);
          if (r === 'retry-plain') r = await attempt(peer, hop, policy, key, true);
          if (r === 'connect-failed') continue;
          sessions++;
        }
      }
    } catch (err) {
      // Unknown errors are temporary (DESIGN.md §3): the recipients stay for the next attempt.
      const reason = err instanceof NextHopError || err instanceof TlsPolicyError ? err.message : `delivery failed: ${err instanceof Error ? err.message : String(err)}`;
      failAll(localFailure('4.3.0', reason), lastRelay);
    }

    for (const r of [...pending.values()]) {
      const st = state.get(r.index);
      const f = st?.failure ?? lastFailure ?? localFailure('4.4.1', 'delivery interrupted');
      const relay = st?.failure ? st.relay : lastRelay;
      settle(r, { index: r.index, kind: 'deferred', dsnStatus: f.dsn, reason: f.reason, relay }, 'deferred', f.reason);
    }
    if (report) {
      if (setupDoneAt !== undefined) report.setupDoneAt = setupDoneAt;
      report.siteFailure = !anySession && req.recipients.some((r) => outcomes.get(r.index)?.kind === 'deferred');
    }
    return req.recipients.map((r) => outcomes.get(r.index)!);
  }

  return {
    transport,
    deliver,
    async close() {
      closed = true;
      cache.closeAll();
      if (tables) for (const t of [...tables.policy, ...tables.sasl]) t.close();
    },
  };
}

