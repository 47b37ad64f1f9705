/*
 * check_client_access, check_reverse_client_hostname_access, check_helo_access,
 * check_sender_access, check_recipient_access and the _mx_/_a_ variants (access(5)): the key
 * search orders of shared/config/tables/search-order.ts (host-name walk with
 * parent_domain_matches_subdomains for smtpd_access_maps, network prefixes for addresses, the
 * address forms for senders and recipients, `<>` for the null sender); pattern tables (regexp,
 * pcre, cidr) see only the whole string. The answer is interpreted by access-result.ts; a
 * restriction-list answer runs with the table's reply target. OK is refused in _mx_/_a_ maps.
 */
import { accessAddrKeys, accessAddressKeys, accessHostKeys, splitAddress } from '../../../shared/config/tables/search-order.js';
import type { LookupTable } from '../../../shared/config/tables/table.js';
import { accessAction } from './access-result.js';
import type { PolicyEnv } from './env.js';
import type { ReplyClass } from './reply.js';
import { DUNNO, type EvalState, type Outcome, type ReplyTarget } from './state.js';

function isPattern(t: LookupTable): boolean {
  const type = t.type === 'proxy' ? t.name.split(':')[0] ?? '' : t.type;
  return type === 'regexp' || type === 'pcre' || type === 'cidr';
}

/** The first key with an answer, and the answer (the key names the entry in warnings). */
function lookupFirst(t: LookupTable, keys: readonly string[]): { key: string; value: string } | undefined {
  for (const key of keys) {
    const value = t.lookup(key);
    if (value !== undefined) return { key, value };
  }
  return undefined;
}

async function applyAnswer(env: PolicyEnv, st: EvalState, found: { key: string; value: string }, table: string, target: ReplyTarget, okAllowed: boolean): Promise<Outcome> {
  const value = found.value;
  const saved = st.target;
  st.target = target;
  try {
    const direct = accessAction(st, value, table, env.params, okAllowed, found.key);
    if (direct !== undefined) return direct;
    if (st.depth > 20) return DUNNO;
    st.depth++;
    try {
      const items = env.parseValue(value);
      return await env.runItems(st, items);
    } finally {
      st.depth--;
    }
  } finally {
    st.target = saved;
  }
}

export type AccessKind = 'client' | 'reverse_client' | 'helo' | 'sender' | 'recipient';

function keysFor(env: PolicyEnv, st: EvalState, kind: AccessKind, pattern: boolean): { keys: string[]; target: ReplyTarget } | undefined {
  const f = st.facts;
  const parent = env.params.accessParentMatches;
  const clientTarget: ReplyTarget = { name: `${f.client.name}[${f.client.addr}]`, cls: 'Client host' };
  switch (kind) {
    case 'client':
    case 'reverse_client': {
      const name = kind === 'client' ? f.client.name : f.client.reverseName ?? f.client.name;
      const named = name !== '' && name.toLowerCase() !== 'unknown';
      const keys = pattern ? [...(named ? [name] : []), f.client.addr] : [...(named ? accessHostKeys(name.toLowerCase(), parent) : []), ...accessAddrKeys(f.client.addr)];
      return { keys, target: clientTarget };
    }
    case 'helo': {
      if (f.helo === undefined || f.helo === '') return undefined;
      const keys = pattern || f.helo.startsWith('[') ? [f.helo] : accessHostKeys(f.helo.toLowerCase().replace(/\.$/, ''), parent);
      return { keys, target: { name: f.helo, cls: 'Helo command' } };
    }
    default: {
      const addr = kind === 'sender' ? f.sender : f.recipient;
      if (addr === undefined) return undefined;
      const cls: ReplyClass = kind === 'sender' ? 'Sender address' : 'Recipient address';
      const keys = pattern
        ? [addr === '' ? env.params.nullAccessKey : addr]
        : accessAddressKeys(addr.toLowerCase(), { recipientDelimiter: env.params.recipientDelimiter, parentMatchesSubdomains: parent, nullKey: env.params.nullAccessKey });
      return { keys, target: { name: addr, cls } };
    }
  }
}

export async function checkAccess(env: PolicyEnv, st: EvalState, kind: AccessKind, spec: string): Promise<Outcome> {
  const table = env.openTable(spec);
  const k = keysFor(env, st, kind, isPattern(table));
  if (k === undefined) return DUNNO;
  const value = lookupFirst(table, k.keys);
  if (value === undefined) return DUNNO;
  return applyAnswer(env, st, value, spec, k.target, true);
}

/** check_*_mx_access / check_*_a_access: the domain's MX hosts (names and addresses) or its addresses. */
export async function checkServerAccess(env: PolicyEnv, st: EvalState, kind: AccessKind, how: 'mx' | 'a', spec: string): Promise<Outcome> {
  const f = st.facts;
  let domain: string | undefined;
  let target: ReplyTarget;
  if (kind === 'helo') {
    domain = f.helo;
    target = { name: f.helo ?? '', cls: 'Helo command' };
  } else if (kind === 'client' || kind === 'reverse_client') {
    domain = kind === 'client' ? f.client.name : f.client.reverseName;
    target = { name: `${f.client.name}[${f.client.addr}]`, cls: 'Client host' };
  } else {
    const addr = kind === 'sender' ? f.sender : f.recipient;
    domain = addr === undefined || addr === '' ? undefined : splitAddress(addr).domain;
    target = { name: addr ?? '', cls: kind === 'sender' ? 'Sender address' : 'Recipient address' };
  }
  if (domain === undefined || domain === '' || domain === 'unknown' || domain.startsWith('[')) return DUNNO;
  const table = env.openTable(spec);
  const pattern = isPattern(table);
  let hosts: string[] = [domain];
  if (how === 'mx') {
    const mx = await env.dns.mx(domain);
    if (mx.status === 'ok') hosts = mx.records.map((r) => r.exchange).filter((h) => h !== '' && h !== '.');
  }
  for (const host of hosts) {
    if (how === 'mx') {
      const v = lookupFirst(table, pattern ? [host] : accessHostKeys(host.toLowerCase(), env.params.accessParentMatches));
      if (v !== undefined) {
        const out = await applyAnswer(env, st, v, spec, target, false);
        if (out.kind !== 'dunno') return out;
      }
    }
    const [a, aaaa] = await Promise.all([env.dns.a(host), env.dns.aaaa(host)]);
    for (const addr of [...a.records, ...aaaa.records]) {
      const v = lookupFirst(table, pattern ? [addr] : accessAddrKeys(addr));
      if (v === undefined) continue;
      const out = await applyAnswer(env, st, v, spec, target, false);
      if (out.kind !== 'dunno') return out;
    }
  }
  return DUNNO;
}
