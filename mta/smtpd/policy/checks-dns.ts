/*
 * Restrictions that ask DNS (smtpd_check.c, postconf(5)): reject_unknown_sender_domain /
 * reject_unknown_recipient_domain (MX, else A/AAAA; a null MX is 556 "does not accept mail
 * (nullMX)"; not found is unknown_address_reject_code with 4.1.8/4.1.2; a temporary failure is
 * unknown_address_tempfail_action, by default defer_if_permit 450), reject_unknown_helo_hostname,
 * reject_unknown_client_hostname / _reverse_client_hostname (from the names smtpd looked up),
 * reject_rbl_client, reject_rhsbl_*, permit_dnswl_client with default_rbl_reply.
 * Skips final destinations (local, virtual alias, virtual mailbox) as Postfix does.
 */
import { splitAddress } from '../../../shared/config/tables/search-order.js';
import { dnsblQueryName, isNullMx, rblFilterMatches } from '../../dns/names.js';
import type { PolicyEnv } from './env.js';
import { validAddrLiteral, validHostAddr } from './hostname.js';
import { expandTemplate, type ReplyClass } from './reply.js';
import { DUNNO, PERMIT, deferReply, reject, rejectedText, type EvalState, type Outcome } from './state.js';

type DomainStatus = 'ok' | 'notfound' | 'nullmx' | 'retry';

async function domainStatus(env: PolicyEnv, domain: string): Promise<DomainStatus> {
  const mx = await env.dns.mx(domain);
  if (mx.status === 'ok') return isNullMx(mx.records) ? 'nullmx' : 'ok';
  if (mx.status === 'retry') return 'retry';
  if (mx.nxdomain) return 'notfound';
  const [a, aaaa] = await Promise.all([env.dns.a(domain), env.dns.aaaa(domain)]);
  if (a.status === 'ok' || aaaa.status === 'ok') return 'ok';
  if (a.status === 'retry' || aaaa.status === 'retry') return 'retry';
  return 'notfound';
}

export async function rejectUnknownAddressDomain(env: PolicyEnv, st: EvalState, which: 'sender' | 'recipient'): Promise<Outcome> {
  const addr = which === 'sender' ? st.facts.sender : st.facts.recipient;
  if (addr === undefined || addr === '') return DUNNO;
  const cls: ReplyClass = which === 'sender' ? 'Sender address' : 'Recipient address';
  const r = env.resolver.resolveDetailed(addr);
  if (r.addressClass === 'local' || r.addressClass === 'virtual-alias' || r.addressClass === 'virtual-mailbox') return DUNNO;
  const domain = splitAddress(r.address).domain ?? '';
  if (domain === '' || validAddrLiteral(domain)) return DUNNO;
  const status = await domainStatus(env, domain);
  const target = { name: addr, cls };
  const detail = which === 'sender' ? '1.8' : '1.2';
  switch (status) {
    case 'ok':
      return DUNNO;
    case 'nullmx':
      return reject(st, 556, which === 'sender' ? '5.7.27' : '5.1.10', rejectedText(target, `Domain ${domain} does not accept mail (nullMX)`), cls);
    case 'notfound': {
      const code = env.params.unknownAddressRejectCode;
      return reject(st, code, `${String(code)[0]}.${detail}`, rejectedText(target, 'Domain not found'), cls);
    }
    default:
      st.deferIfPermit ??= deferReply(st, 450, `4.${detail}`, rejectedText(target, 'Domain not found'), cls);
      return DUNNO;
  }
}

export async function rejectUnknownHelo(env: PolicyEnv, st: EvalState): Promise<Outcome> {
  const helo = st.facts.helo;
  if (helo === undefined || helo === '' || validAddrLiteral(helo) || validHostAddr(helo)) return DUNNO;
  const status = await domainStatus(env, helo);
  if (status === 'ok' || status === 'nullmx') return DUNNO;
  const target = { name: helo, cls: 'Helo command' as const };
  if (status === 'retry') {
    st.deferIfPermit ??= deferReply(st, 450, '4.7.1', rejectedText(target, 'Host not found'), 'Helo command');
    return DUNNO;
  }
  return reject(st, env.params.unknownHostnameRejectCode, '4.7.1', rejectedText(target, 'Host not found'), 'Helo command');
}

export function rejectUnknownClient(env: PolicyEnv, st: EvalState, reverse: boolean): Outcome {
  const c = st.facts.client;
  const name = reverse ? c.reverseName ?? c.name : c.name;
  if (name !== '' && name.toLowerCase() !== 'unknown') return DUNNO;
  const what = reverse ? 'reverse hostname' : 'hostname';
  return reject(st, env.params.unknownClientRejectCode, '4.7.1', `Client host rejected: cannot find your ${what}, [${c.addr}]`, 'Client host');
}

/** `zone` or `zone=filter`. */
function splitZone(arg: string): { zone: string; filter?: string } {
  const eq = arg.indexOf('=');
  return eq < 0 ? { zone: arg } : { zone: arg.slice(0, eq), filter: arg.slice(eq + 1) };
}

async function listed(env: PolicyEnv, query: string, filter: string | undefined): Promise<{ hit: boolean; reason: string }> {
  const a = await env.dns.a(query);
  if (a.status !== 'ok') return { hit: false, reason: '' };
  const hits = filter === undefined ? a.records : a.records.filter((x) => rblFilterMatches(filter, x));
  if (hits.length === 0) return { hit: false, reason: '' };
  const txt = await env.dns.txt(query);
  return { hit: true, reason: txt.status === 'ok' ? txt.records[0] ?? '' : '' };
}

function rblReject(env: PolicyEnv, st: EvalState, cls: ReplyClass, what: string, zone: string, reason: string): Outcome {
  const code = env.params.mapsRblRejectCode;
  const text = expandTemplate(env.params.defaultRblReply, {
    rbl_code: String(code), rbl_class: cls, rbl_what: what, rbl_domain: zone, rbl_reason: reason,
    client_address: st.facts.client.addr, client_name: st.facts.client.name,
  });
  const m = /^(\d{3})\s+(?:(\d\.\d{1,3}\.\d{1,3})\s+)?([\s\S]*)$/.exec(text);
  const c = m ? Number(m[1]) : code;
  return reject(st, c, m?.[2] ?? `${String(c)[0]}.7.1`, m ? m[3]! : text, cls);
}

export async function rejectRblClient(env: PolicyEnv, st: EvalState, arg: string): Promise<Outcome> {
  const { zone, filter } = splitZone(arg);
  const q = dnsblQueryName(st.facts.client.addr, zone);
  if (q === undefined) return DUNNO;
  const l = await listed(env, q, filter);
  return l.hit ? rblReject(env, st, 'Client host', st.facts.client.addr, zone, l.reason) : DUNNO;
}

export async function permitDnswlClient(env: PolicyEnv, st: EvalState, arg: string): Promise<Outcome> {
  const { zone, filter } = splitZone(arg);
  const q = dnsblQueryName(st.facts.client.addr, zone);
  if (q === undefined) return DUNNO;
  return (await listed(env, q, filter)).hit ? PERMIT : DUNNO;
}

export async function rejectRhsbl(env: PolicyEnv, st: EvalState, arg: string, which: 'client' | 'reverse_client' | 'sender' | 'helo' | 'recipient'): Promise<Outcome> {
  const { zone, filter } = splitZone(arg);
  let domain: string | undefined;
  let cls: ReplyClass = 'Client host';
  const f = st.facts;
  if (which === 'client') domain = f.client.name;
  else if (which === 'reverse_client') domain = f.client.reverseName ?? f.client.name;
  else if (which === 'helo') {
    domain = f.helo;
    cls = 'Helo command';
  } else {
    const addr = which === 'sender' ? f.sender : f.recipient;
    domain = addr === undefined || addr === '' ? undefined : splitAddress(addr).domain;
    cls = which === 'sender' ? 'Sender address' : 'Recipient address';
  }
  if (domain === undefined || domain === '' || domain === 'unknown' || domain.startsWith('[')) return DUNNO;
  const l = await listed(env, `${domain}.${zone}`, filter);
  return l.hit ? rblReject(env, st, cls, domain, zone, l.reason) : DUNNO;
}
