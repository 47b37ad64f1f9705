/*
 * Address restrictions (smtpd_check.c): permit_auth_destination / reject_unauth_destination /
 * defer_unauth_destination (the resolver's class decides; sender-specified routing is not
 * authorised unless allow_untrusted_routing), reject_unlisted_recipient / _sender (check_rcpt_maps:
 * canonical and virtual-alias entries pass; error:/retry: transports reject with their text;
 * then local_recipient_maps, virtual alias, virtual_mailbox_maps, relay_recipient_maps with the
 * `User unknown in … table` texts), reject_non_fqdn_*, HELO syntax, and the
 * reject_*sender_login_mismatch family over smtpd_sender_login_maps.
 */
import { splitAddress, virtualKeys } from '../../../shared/config/tables/search-order.js';
import { splitDsn } from '../../resolve/nexthop.js';
import type { PolicyEnv } from './env.js';
import { isFqdn, validAddrLiteral, validHostAddr, validHostname } from './hostname.js';
import type { ReplyClass } from './reply.js';
import { DUNNO, PERMIT, reject, rejectedText, type EvalState, type Outcome } from './state.js';

const rcptTarget = (addr: string): { name: string; cls: ReplyClass } => ({ name: addr, cls: 'Recipient address' });

export function permitAuthDestination(env: PolicyEnv, recipient: string): boolean {
  if (recipient === '') return false;
  const r = env.resolver.resolveDetailed(recipient);
  if (r.routed && !env.params.allowUntrustedRouting) return false;
  return r.addressClass !== 'default';
}

export function checkRelay(env: PolicyEnv, st: EvalState, mode: 'reject' | 'defer' | 'permit'): Outcome {
  const rcpt = st.facts.recipient;
  if (rcpt === undefined) return DUNNO;
  const ok = permitAuthDestination(env, rcpt);
  if (mode === 'permit') return ok ? PERMIT : DUNNO;
  if (ok) return DUNNO;
  let code = env.params.relayDomainsRejectCode;
  if (mode === 'defer') code = 400 + (code % 100);
  return reject(st, code, mode === 'defer' ? '4.7.1' : '5.7.1', `<${rcpt}>: Relay access denied`, 'Recipient address');
}

function mapsMatch(env: PolicyEnv, which: keyof PolicyEnv['resolver']['ctx']['maps'], address: string, localDomain: boolean): boolean {
  const maps = env.resolver.ctx.maps[which];
  if (maps.empty) return false;
  const keys = virtualKeys(address.toLowerCase(), { recipientDelimiter: env.params.recipientDelimiter, localDomain });
  return maps.find(keys) !== undefined;
}

/** check_rcpt_maps(): DUNNO when the address is (or may be) valid, else the rejection. */
export function checkUnlisted(env: PolicyEnv, st: EvalState, address: string, cls: 'Recipient address' | 'Sender address'): Outcome {
  if (address === '') return DUNNO;
  const p = env.params;
  const r = env.resolver.resolveDetailed(address);
  const local = env.resolver.isLocalForRewrite(r.domain);
  const target = { name: address, cls };
  const isSender = cls === 'Sender address';
  if (
    mapsMatch(env, 'recipientCanonical', r.address, local) ||
    (isSender && mapsMatch(env, 'senderCanonical', r.address, local)) ||
    mapsMatch(env, 'canonical', r.address, local) ||
    mapsMatch(env, 'virtualAlias', r.address, local)
  ) {
    return DUNNO;
  }
  if (r.addressClass !== 'virtual-alias' && (r.transport === 'error' || r.transport === 'retry')) {
    const retry = r.transport === 'retry';
    const d = splitDsn(r.nexthop, retry ? '4.3.0' : '5.1.1');
    return reject(st, retry ? 450 : 550, d.dsn, rejectedText(target, d.text), cls);
  }
  const unknown = (code: number, table: string): Outcome =>
    reject(st, code, isSender ? '5.1.0' : '5.1.1', rejectedText(target, p.showUnknownTableName ? `User unknown in ${table}` : 'User unknown'), cls);
  const maps = env.resolver.ctx.maps;
  switch (r.addressClass) {
    case 'local':
      if (!maps.localRecipient.empty && !mapsMatch(env, 'localRecipient', r.address, true)) return unknown(p.unknownLocalRecipientRejectCode, 'local recipient table');
      return DUNNO;
    case 'virtual-alias':
      return unknown(p.unknownVirtualAliasRejectCode, 'virtual alias table');
    case 'virtual-mailbox':
      if (!maps.virtualMailbox.empty && !mapsMatch(env, 'virtualMailbox', r.address, local)) return unknown(p.unknownVirtualMailboxRejectCode, 'virtual mailbox table');
      return DUNNO;
    case 'relay':
      if (!maps.relayRecipient.empty && !mapsMatch(env, 'relayRecipient', r.address, local)) return unknown(p.unknownRelayRecipientRejectCode, 'relay recipient table');
      return DUNNO;
    default:
      return DUNNO;
  }
}

export function rejectUnlistedRecipient(env: PolicyEnv, st: EvalState): Outcome {
  const rcpt = st.facts.recipient;
  if (rcpt === undefined) return DUNNO;
  st.recipientChecked = true;
  return checkUnlisted(env, st, rcpt, 'Recipient address');
}

export function rejectUnlistedSender(env: PolicyEnv, st: EvalState): Outcome {
  const sender = st.facts.sender;
  if (sender === undefined) return DUNNO;
  st.senderChecked = true;
  return checkUnlisted(env, st, sender, 'Sender address');
}

function nonFqdnAddress(env: PolicyEnv, st: EvalState, addr: string | undefined, cls: 'Sender address' | 'Recipient address'): Outcome {
  if (addr === undefined || addr === '') return DUNNO;
  const { domain } = splitAddress(addr);
  if (domain !== undefined && (validAddrLiteral(domain) || isFqdn(domain))) return DUNNO;
  return reject(st, env.params.nonFqdnRejectCode, '5.5.2', rejectedText({ name: addr, cls }, 'need fully-qualified address'), cls);
}

export const rejectNonFqdnSender = (env: PolicyEnv, st: EvalState): Outcome => nonFqdnAddress(env, st, st.facts.sender, 'Sender address');
export const rejectNonFqdnRecipient = (env: PolicyEnv, st: EvalState): Outcome => nonFqdnAddress(env, st, st.facts.recipient, 'Recipient address');

export function rejectNonFqdnHelo(env: PolicyEnv, st: EvalState): Outcome {
  const helo = st.facts.helo;
  if (helo === undefined || helo === '') return DUNNO;
  if (validAddrLiteral(helo) || validHostAddr(helo) || isFqdn(helo)) return DUNNO;
  return reject(st, env.params.nonFqdnRejectCode, '5.5.2', rejectedText({ name: helo, cls: 'Helo command' }, 'need fully-qualified hostname'), 'Helo command');
}

export function rejectInvalidHelo(env: PolicyEnv, st: EvalState): Outcome {
  const helo = st.facts.helo;
  if (helo === undefined || helo === '') return DUNNO;
  if (helo.startsWith('[') ? validAddrLiteral(helo) : validHostname(helo) || validHostAddr(helo)) return DUNNO;
  return reject(st, env.params.invalidHostnameRejectCode, '5.5.2', rejectedText({ name: helo, cls: 'Helo command' }, 'Invalid name'), 'Helo command');
}

export type LoginMismatchMode = 'all' | 'authenticated' | 'known' | 'unauthenticated';

/** reject_sender_login_mismatch and its variants (smtpd_sender_login_maps owners). */
export function senderLoginMismatch(env: PolicyEnv, st: EvalState, mode: LoginMismatchMode): Outcome {
  const sender = st.facts.sender;
  if (sender === undefined || sender === '') return DUNNO;
  const maps = env.resolver.ctx.maps.senderLogin;
  const q = env.resolver.qualify(sender);
  const { domain } = splitAddress(q);
  const hit = maps.empty ? undefined : maps.find(virtualKeys(q.toLowerCase(), { recipientDelimiter: env.params.recipientDelimiter, localDomain: env.resolver.isLocalForRewrite(domain) }));
  const owners = hit === undefined ? [] : hit.value.split(/[\s,]+/).filter((s) => s !== '');
  const target = { name: sender, cls: 'Sender address' as const };
  const sasl = st.facts.sasl;
  if (sasl !== undefined && mode !== 'unauthenticated') {
    if (mode === 'known' && owners.length === 0) return DUNNO;
    if (!owners.some((o) => o.toLowerCase() === sasl.username.toLowerCase())) {
      return reject(st, 553, '5.7.1', rejectedText(target, `not owned by user ${sasl.username}`));
    }
    return DUNNO;
  }
  if (sasl === undefined && (mode === 'all' || mode === 'unauthenticated') && owners.length > 0) {
    return reject(st, 553, '5.7.1', rejectedText(target, 'not logged in'));
  }
  return DUNNO;
}

export { rcptTarget };
