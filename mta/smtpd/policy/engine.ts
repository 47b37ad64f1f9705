/*
 * The smtpd restriction engine (SmtpdPolicy): Postfix's smtpd_check.c evaluation semantics over
 * the lists parsed once by lists.ts.
 *
 * - smtpd_delay_reject = yes (default): connect, HELO and MAIL are accepted; at RCPT (and VRFY) the
 *   client, helo and sender lists run first, so a rejection can name the recipient in the log.
 * - A `permit` ends only its own list; a reject ends the whole evaluation.
 * - RCPT: relay list and recipient list in the order of smtpd_relay_before_recipient_restrictions;
 *   both must pass. Then the implicit reject_unlisted_recipient (smtpd_reject_unlisted_recipient)
 *   unless a list already ran it; reject_unlisted_sender likewise after the sender list.
 * - warn_if_reject, DEFER_IF_PERMIT (deferral if the evaluation would end in permit),
 *   DEFER_IF_REJECT (a later 5xx becomes the remembered 4xx), HOLD and DISCARD.
 * - Table open failures reply `451 4.3.5 <…>: … rejected: Server configuration error`, lookup
 *   failures `451 4.3.0 <…>: … rejected: Temporary lookup failure`; an unknown restriction name
 *   `451 4.3.5 Server configuration error`, as Postfix 3.7 answers.
 * Stateless between calls: smtpd passes all it knows in SmtpdFacts.
 */
import type { PostfixConfig } from '../../../shared/config/postfix/config.js';
import { reply } from '../../../shared/proto/smtp-reply.js';
import { TableOpenError } from '../../../shared/config/tables/errors.js';
import type { DnsClient } from '../../dns/api.js';
import { createNodeDnsClient } from '../../dns/node-dns.js';
import { createResolveContext, listParam } from '../../resolve/context.js';
import { createResolver, type PostfixResolver } from '../../resolve/resolver.js';
import type { Decision, SmtpdFacts, SmtpdPolicy, SmtpdStage } from './api.js';
import * as addr from './checks-address.js';
import { checkAccess, checkServerAccess, type AccessKind } from './checks-access.js';
import * as dnsChecks from './checks-dns.js';
import type { PolicyEnv, PolicyParams } from './env.js';
import { loadRestrictionLists, type ListName, type RestrictionLists } from './lists.js';
import { compileNetworkList, type NetworkList } from './network-list.js';
import { checkPolicyService } from './checks-policy.js';
import { PolicyServices } from './policy-service.js';
import { parseRestrictions, type ParsedItem } from './restriction-list.js';
import { DUNNO, PERMIT, clientName, newState, reject, rejectedText, type EvalState, type Outcome, type ReplyTarget } from './state.js';

export interface SmtpdPolicyOptions {
  /** A resolver shared with the rest of the daemon; default: one built from cfg. */
  resolver?: PostfixResolver;
  /** DNS for reject_unknown_*_domain, RBLs, _mx_ access; default node:dns. */
  dns?: DnsClient;
  sleep?: (ms: number) => Promise<void>;
  /** Receives warning/reject_warning/info lines (without the `NOQUEUE:` prefix). */
  log?: (line: string) => void;
}

export interface SmtpdPolicyEngine extends SmtpdPolicy {
  readonly lists: RestrictionLists;
  readonly resolver: PostfixResolver;
  /** Closes idle policy service connections. */
  close(): void;
}

function readParams(cfg: PostfixConfig): PolicyParams {
  const i = (n: string): number => cfg.getInt(n);
  return {
    rejectCode: i('reject_code'),
    deferCode: i('defer_code'),
    accessMapRejectCode: i('access_map_reject_code'),
    accessMapDeferCode: i('access_map_defer_code'),
    relayDomainsRejectCode: i('relay_domains_reject_code'),
    unknownLocalRecipientRejectCode: i('unknown_local_recipient_reject_code'),
    unknownVirtualAliasRejectCode: i('unknown_virtual_alias_reject_code'),
    unknownVirtualMailboxRejectCode: i('unknown_virtual_mailbox_reject_code'),
    unknownRelayRecipientRejectCode: i('unknown_relay_recipient_reject_code'),
    unknownAddressRejectCode: i('unknown_address_reject_code'),
    unknownClientRejectCode: i('unknown_client_reject_code'),
    unknownHostnameRejectCode: i('unknown_hostname_reject_code'),
    invalidHostnameRejectCode: i('invalid_hostname_reject_code'),
    nonFqdnRejectCode: i('non_fqdn_reject_code'),
    mapsRblRejectCode: i('maps_rbl_reject_code'),
    plaintextRejectCode: i('plaintext_reject_code'),
    defaultRblReply: cfg.text('default_rbl_reply') ?? '',
    nullAccessKey: cfg.get('smtpd_null_access_lookup_key') || '<>',
    recipientDelimiter: cfg.get('recipient_delimiter'),
    accessParentMatches: cfg.getList('parent_domain_matches_subdomains').includes('smtpd_access_maps'),
    showUnknownTableName: cfg.getBool('show_user_unknown_table_name'),
    allowUntrustedRouting: cfg.getBool('allow_untrusted_routing'),
    softBounce: cfg.getBool('soft_bounce'),
  };
}

const LIST_TARGET: Record<ListName, (f: SmtpdFacts) => ReplyTarget> = {
  client: (f) => ({ name: clientName(f), cls: 'Client host' }),
  helo: (f) => ({ name: f.helo ?? '', cls: 'Helo command' }),
  sender: (f) => ({ name: f.sender ?? '', cls: 'Sender address' }),
  relay: (f) => ({ name: f.recipient ?? '', cls: 'Recipient address' }),
  recipient: (f) => ({ name: f.recipient ?? '', cls: 'Recipient address' }),
  data: () => ({ name: 'DATA', cls: 'Data command' }),
  end_of_data: () => ({ name: 'END-OF-MESSAGE', cls: 'End-of-data' }),
  etrn: (f) => ({ name: f.etrnDomain ?? '', cls: 'Etrn command' }),
};

const configError = (st: EvalState): Outcome => reject(st, 451, '4.3.5', 'Server configuration error');

export function createSmtpdPolicy(cfg: PostfixConfig, opts: SmtpdPolicyOptions = {}): SmtpdPolicyEngine {
  const resolver = opts.resolver ?? createResolver(createResolveContext(cfg));
  const params = readParams(cfg);
  const lists = loadRestrictionLists(cfg);
  const delayReject = cfg.getBool('smtpd_delay_reject');
  const relayFirst = cfg.getBool('smtpd_relay_before_recipient_restrictions');
  const unlistedRecipient = cfg.getBool('smtpd_reject_unlisted_recipient');
  const unlistedSender = cfg.getBool('smtpd_reject_unlisted_sender');
  const log = opts.log ?? (() => undefined);
  let nets: NetworkList | undefined;
  let dns = opts.dns;
  const ctx = resolver.ctx;

  const env: PolicyEnv = {
    params,
    resolver,
    get dns(): DnsClient {
      dns ??= createNodeDnsClient();
      return dns;
    },
    mynetworks: () => (nets ??= compileNetworkList(listParam(cfg, 'mynetworks'), ctx.io, ctx.parentMatches('mynetworks'), log)),
    openTable: (spec) => ctx.io.openTable(spec),
    sleep: opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    runItems: (st, items) => runItems(st, items),
    parseValue: (value) => parseRestrictions(value, lists.classNames),
  };

  const policyServices = new PolicyServices(
    {
      timeoutMs: cfg.getTime('smtpd_policy_service_timeout') * 1000,
      maxIdleMs: cfg.getTime('smtpd_policy_service_max_idle') * 1000,
      maxTtlMs: cfg.getTime('smtpd_policy_service_max_ttl') * 1000,
      tryLimit: cfg.getInt('smtpd_policy_service_try_limit'),
      retryDelayMs: cfg.getTime('smtpd_policy_service_retry_delay') * 1000,
      requestLimit: cfg.getInt('smtpd_policy_service_request_limit'),
      defaultAction: cfg.get('smtpd_policy_service_default_action'),
      policyContext: cfg.get('smtpd_policy_service_policy_context'),
      queueDirectory: cfg.get('queue_directory'),
    },
    log,
    opts.sleep,
  );

  const withArg: Record<string, (st: EvalState, arg: string) => Promise<Outcome> | Outcome> = {};
  withArg['check_policy_service'] = (st, arg) => checkPolicyService(env, policyServices, st, arg);
  const accessKinds: [string, AccessKind][] = [['client', 'client'], ['reverse_client_hostname', 'reverse_client'], ['helo', 'helo'], ['sender', 'sender'], ['recipient', 'recipient']];
  for (const [prefix, kind] of accessKinds) {
    withArg[`check_${prefix}_access`] = (st, arg) => checkAccess(env, st, kind, arg);
    withArg[`check_${prefix}_mx_access`] = (st, arg) => checkServerAccess(env, st, kind, 'mx', arg);
    withArg[`check_${prefix}_a_access`] = (st, arg) => checkServerAccess(env, st, kind, 'a', arg);
  }
  withArg['reject_rbl_client'] = (st, arg) => dnsChecks.rejectRblClient(env, st, arg);
  withArg['reject_maps_rbl'] = withArg['reject_rbl_client'];
  withArg['permit_dnswl_client'] = (st, arg) => dnsChecks.permitDnswlClient(env, st, arg);
  withArg['reject_rhsbl_client'] = (st, arg) => dnsChecks.rejectRhsbl(env, st, arg, 'client');
  withArg['reject_rhsbl_reverse_client'] = (st, arg) => dnsChecks.rejectRhsbl(env, st, arg, 'reverse_client');
  withArg['reject_rhsbl_sender'] = (st, arg) => dnsChecks.rejectRhsbl(env, st, arg, 'sender');
  withArg['reject_rhsbl_helo'] = (st, arg) => dnsChecks.rejectRhsbl(env, st, arg, 'helo');
  withArg['reject_rhsbl_recipient'] = (st, arg) => dnsChecks.rejectRhsbl(env, st, arg, 'recipient');
  withArg['sleep'] = async (st, arg) => {
    const n = Number(arg);
    if (!Number.isFinite(n) || n < 0) return configError(st);
    await env.sleep(n * 1000);
    return DUNNO;
  };

  const simple: Record<string, (st: EvalState) => Promise<Outcome> | Outcome> = {
    permit: () => PERMIT,
    dunno: () => DUNNO,
    reject: (st) => reject(st, params.rejectCode, '5.7.1', rejectedText(st.target, 'Access denied')),
    defer: (st) => reject(st, params.deferCode, '4.3.2', rejectedText(st.target, 'Try again later')),
    defer_if_permit: (st) => {
      st.deferIfPermit ??= reply(params.deferCode, '4.7.1', rejectedText(st.target, 'defer_if_permit requested'));
      return DUNNO;
    },
    defer_if_reject: (st) => {
      st.deferIfReject ??= reply(params.deferCode, '4.7.1', rejectedText(st.target, 'defer_if_reject requested'));
      return DUNNO;
    },
    permit_mynetworks: (st) => (env.mynetworks().matches(st.facts.client.addr, st.facts.client.name) ? PERMIT : DUNNO),
    permit_inet_interfaces: (st) => (ctx.interfaceAddrs.has(st.facts.client.addr) ? PERMIT : DUNNO),
    permit_sasl_authenticated: (st) => (st.facts.sasl !== undefined ? PERMIT : DUNNO),
    permit_tls_clientcerts: () => DUNNO,
    permit_tls_all_clientcerts: () => DUNNO,
    reject_unauth_destination: (st) => addr.checkRelay(env, st, 'reject'),
    check_relay_domains: (st) => addr.checkRelay(env, st, 'reject'),
    defer_unauth_destination: (st) => addr.checkRelay(env, st, 'defer'),
    permit_auth_destination: (st) => addr.checkRelay(env, st, 'permit'),
    reject_unlisted_recipient: (st) => addr.rejectUnlistedRecipient(env, st),
    check_recipient_maps: (st) => addr.rejectUnlistedRecipient(env, st),
    reject_unlisted_sender: (st) => addr.rejectUnlistedSender(env, st),
    reject_non_fqdn_recipient: (st) => addr.rejectNonFqdnRecipient(env, st),
    reject_non_fqdn_sender: (st) => addr.rejectNonFqdnSender(env, st),
    reject_non_fqdn_helo_hostname: (st) => addr.rejectNonFqdnHelo(env, st),
    reject_non_fqdn_hostname: (st) => addr.rejectNonFqdnHelo(env, st),
    reject_invalid_helo_hostname: (st) => addr.rejectInvalidHelo(env, st),
    reject_invalid_hostname: (st) => addr.rejectInvalidHelo(env, st),
    reject_unknown_helo_hostname: (st) => dnsChecks.rejectUnknownHelo(env, st),
    reject_unknown_hostname: (st) => dnsChecks.rejectUnknownHelo(env, st),
    reject_unknown_sender_domain: (st) => dnsChecks.rejectUnknownAddressDomain(env, st, 'sender'),
    reject_unknown_recipient_domain: (st) => dnsChecks.rejectUnknownAddressDomain(env, st, 'recipient'),
    reject_unknown_client_hostname: (st) => dnsChecks.rejectUnknownClient(env, st, false),
    reject_unknown_client: (st) => dnsChecks.rejectUnknownClient(env, st, false),
    reject_unknown_reverse_client_hostname: (st) => dnsChecks.rejectUnknownClient(env, st, true),
    reject_unknown_forward_client_hostname: (st) => dnsChecks.rejectUnknownClient(env, st, false),
    reject_unauth_pipelining: (st) =>
      st.facts.pipelined ? reject(st, 503, '5.5.0', rejectedText(st.target, 'Improper use of SMTP command pipelining')) : DUNNO,
    reject_plaintext_session: (st) => (st.facts.tls ? DUNNO : reject(st, params.plaintextRejectCode, '4.7.1', 'Session encryption is required')),
    reject_sender_login_mismatch: (st) => addr.senderLoginMismatch(env, st, 'all'),
    reject_authenticated_sender_login_mismatch: (st) => addr.senderLoginMismatch(env, st, 'authenticated'),
    reject_known_sender_login_mismatch: (st) => addr.senderLoginMismatch(env, st, 'known'),
    reject_unauthenticated_sender_login_mismatch: (st) => addr.senderLoginMismatch(env, st, 'unauthenticated'),
    reject_multi_recipient_bounce: (st) =>
      st.facts.sender === '' && st.facts.recipientCount > 0
        ? reject(st, cfg.getInt('multi_recipient_bounce_reject_code'), '5.5.3', rejectedText({ name: '', cls: 'Sender address' }, 'Multi-recipient bounce'), 'Sender address')
        : DUNNO,
    // Address verification needs verify(8); Postern has none, so these never reject.
    reject_unverified_recipient: () => DUNNO,
    reject_unverified_sender: () => DUNNO,
    permit_mx_backup: () => DUNNO,
    permit_naked_ip_address: () => DUNNO,
  };

  async function runOne(st: EvalState, item: ParsedItem): Promise<Outcome> {
    if (item.unknown) {
      log(`warning: unknown smtpd restriction: "${item.name}"`);
      return reject(st, 451, '4.3.5', 'Server configuration error');
    }
    if (item.arg !== undefined) {
      const f = withArg[item.name];
      if (f === undefined) {
        log(`warning: restriction ${item.name} is not supported by Postern`);
        return reject(st, 451, '4.3.5', 'Server configuration error');
      }
      return f(st, item.arg);
    }
    const cls = lists.classes.get(item.name);
    if (cls !== undefined) {
      if (st.depth > 20) return DUNNO;
      st.depth++;
      try {
        return await runItems(st, cls);
      } finally {
        st.depth--;
      }
    }
    const f = simple[item.name];
    if (f === undefined) return reject(st, 451, '4.3.5', 'Server configuration error');
    return f(st);
  }

  async function runItems(st: EvalState, items: readonly ParsedItem[]): Promise<Outcome> {
    const savedWarn = st.warnIfReject;
    st.warnIfReject = false;
    try {
      for (const item of items) {
        if (item.name === 'warn_if_reject') {
          st.warnIfReject = true;
          continue;
        }
        const out = await runOne(st, item);
        st.warnIfReject = false;
        if (out.kind !== 'dunno') return out;
      }
      return DUNNO;
    } finally {
      st.warnIfReject = savedWarn;
    }
  }

  async function runList(st: EvalState, name: ListName): Promise<Outcome> {
    st.target = LIST_TARGET[name](st.facts);
    return runItems(st, lists.lists[name]);
  }

  const isReject = (o: Outcome): boolean => o.kind === 'reject';

  async function rcptStage(st: EvalState): Promise<Outcome> {
    if (delayReject) {
      for (const l of ['client', 'helo', 'sender'] as const) {
        const o = await runList(st, l);
        if (isReject(o)) return o;
      }
      if (unlistedSender && !st.senderChecked) {
        const o = addr.rejectUnlistedSender(env, st);
        if (isReject(o)) return o;
      }
    }
    if (!lists.relaySafe) {
      log('fatal: in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, specify at least one working instance of: reject_unauth_destination, defer_unauth_destination, reject, defer, defer_if_permit or check_relay_domains');
      return { kind: 'reject', reply: reply(451, '4.3.5', 'Server configuration error') };
    }
    const order: ListName[] = relayFirst ? ['relay', 'recipient'] : ['recipient', 'relay'];
    for (const l of order) {
      const o = await runList(st, l);
      if (isReject(o)) return o;
    }
    if (unlistedRecipient && !st.recipientChecked) {
      st.target = LIST_TARGET.recipient(st.facts);
      const o = addr.rejectUnlistedRecipient(env, st);
      if (isReject(o)) return o;
    }
    return DUNNO;
  }

  async function stageOutcome(st: EvalState): Promise<Outcome> {
    switch (st.stage) {
      case 'connect':
        return delayReject ? DUNNO : runList(st, 'client');
      case 'helo':
        return delayReject ? DUNNO : runList(st, 'helo');
      case 'mail': {
        if (delayReject) return DUNNO;
        const o = await runList(st, 'sender');
        if (isReject(o) || !unlistedSender || st.senderChecked) return o;
        const u = addr.rejectUnlistedSender(env, st);
        return isReject(u) ? u : o;
      }
      case 'rcpt':
      case 'vrfy':
        return rcptStage(st);
      case 'data':
        return runList(st, 'data');
      case 'end-of-data':
        return runList(st, 'end_of_data');
      case 'etrn':
        return runList(st, 'etrn');
    }
  }

  async function evaluate(stage: SmtpdStage, facts: SmtpdFacts): Promise<Decision> {
    const st = newState(stage, facts, params.softBounce);
    let out: Outcome;
    try {
      out = await stageOutcome(st);
    } catch (err) {
      const open = err instanceof TableOpenError;
      log(`warning: ${open ? 'table open' : 'table lookup'} failure: ${(err as Error).message}`);
      out = {
        kind: 'reject',
        reply: reply(451, open ? '4.3.5' : '4.3.0', rejectedText(st.target, open ? 'Server configuration error' : 'Temporary lookup failure')),
      };
    }
    for (const line of st.log) log(line);
    if (out.kind === 'reject') {
      const kind = out.reply.code >= 500 ? 'reject' : 'defer';
      return out.disconnect ? { kind, reply: out.reply, disconnect: true } : { kind, reply: out.reply };
    }
    if (st.deferIfPermit !== undefined) return { kind: 'defer', reply: st.deferIfPermit };
    const prepend = st.prepend ? { prepend: st.prepend } : {};
    if (st.discard !== undefined) return { kind: 'discard', reason: st.discard, ...prepend };
    if (st.hold !== undefined) return { kind: 'hold', reason: st.hold, ...prepend };
    return { kind: 'accept', ...prepend };
  }

  return { evaluate, lists, resolver, close: () => policyServices.close() };
}
