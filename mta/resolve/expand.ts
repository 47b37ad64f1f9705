/*
 * Recipient expansion: virtual_alias_maps as cleanup applies it (cleanup_map1n: each address is
 * replaced by its lookup result until nothing matches; an address that maps to itself stops
 * there; virtual_alias_recursion_limit bounds the nesting and virtual_alias_expansion_limit the
 * number of addresses, either failing with 4.6.0 "Alias expansion error"), then alias_maps as
 * local(8) applies them to local-class addresses (aliases(5): key is the local part, then the
 * local part without its extension; `|command`, `/file` and `:include:` targets are reported as
 * unsupported). Results are de-duplicated case-insensitively, as cleanup's duplicate filter does.
 * Table errors propagate as exceptions (callers defer).
 */
import { aliasKeys, splitAddress } from '../../shared/config/tables/search-order.js';
import type { Expansion } from './api.js';
import { mapAddress, splitAddressList } from './addr-map.js';
import type { PostfixResolver } from './resolver.js';

export interface ExpandOptions {
  /** Apply alias_maps to local-class results (local(8)'s job). Default true. */
  aliases?: boolean;
}

const aliasError = (detail: string): Expansion => ({ kind: 'error', dsn: '4.6.0', text: 'Alias expansion error', logDetail: detail });

/** virtual_alias_maps expansion of one recipient (cleanup). */
export function expandVirtual(resolver: PostfixResolver, recipient: string): Expansion {
  const ctx = resolver.ctx;
  const recursionLimit = ctx.cfg.getInt('virtual_alias_recursion_limit');
  const expansionLimit = ctx.cfg.getInt('virtual_alias_expansion_limit');
  const start = resolver.qualify(recipient);
  if (ctx.maps.virtualAlias.empty) return { kind: 'addresses', addresses: [start] };
  const list = [start];
  const fixed = new Set<string>();
  for (let i = 0; i < list.length; i++) {
    if (list.length > expansionLimit) return aliasError(`unreasonable virtual_alias_maps map expansion size for ${start}`);
    for (let count = 0; ; count++) {
      const cur = list[i]!;
      if (fixed.has(cur.toLowerCase())) break;
      if (count >= recursionLimit) return aliasError(`unreasonable virtual_alias_maps map nesting for ${start}`);
      const p = splitAddress(cur);
      const got = mapAddress(ctx.maps.virtualAlias, cur, {
        recipientDelimiter: ctx.recipientDelimiter,
        localDomain: resolver.isLocalForRewrite(p.domain),
        propagate: ctx.propagates('virtual'),
        qualify: resolver.qualify,
      });
      if (got === undefined || got.length === 0) break;
      got.forEach((addr, j) => {
        if (j === 0) list[i] = addr;
        else list.push(addr);
        if (addr.toLowerCase() === cur.toLowerCase()) fixed.add(cur.toLowerCase());
      });
    }
  }
  if (list.length > expansionLimit) return aliasError(`unreasonable virtual_alias_maps map expansion size for ${start}`);
  return { kind: 'addresses', addresses: dedupe(list) };
}

/** alias_maps expansion of local-class addresses (local(8)); other addresses pass through. */
export function expandAliases(resolver: PostfixResolver, addresses: readonly string[]): Expansion {
  const ctx = resolver.ctx;
  const out: string[] = [];
  const unsupported: { alias: string; target: string }[] = [];
  const seen = new Set<string>();
  const limit = ctx.cfg.getInt('virtual_alias_expansion_limit');
  const walk = (address: string, depth: number): Expansion | undefined => {
    if (depth > 100) return aliasError(`mail forwarding loop for ${address}`);
    const r = resolver.resolveDetailed(address);
    if (r.addressClass !== 'local' || ctx.maps.alias.empty) {
      out.push(r.address);
      return undefined;
    }
    const p = splitAddress(r.address, ctx.recipientDelimiter);
    const keys = aliasKeys(p.local.toLowerCase(), ctx.recipientDelimiter);
    if (seen.has(keys[0]!)) {
      out.push(r.address);
      return undefined;
    }
    const hit = ctx.maps.alias.find(keys);
    if (hit === undefined) {
      out.push(r.address);
      return undefined;
    }
    seen.add(keys[0]!);
    const ext = p.baseLocal !== undefined && hit.key !== keys[0] ? p.local.slice(p.baseLocal.length) : '';
    for (const target of splitAliasTargets(hit.value)) {
      if (target.startsWith('|') || target.startsWith('/') || target.toLowerCase().startsWith(':include:')) {
        unsupported.push({ alias: hit.key, target });
        continue;
      }
      let t = target;
      if (ext !== '' && ctx.propagates('alias')) {
        const tp = splitAddress(t);
        t = tp.domain === undefined ? `${tp.local}${ext}` : `${tp.local}${ext}@${tp.domain}`;
      }
      const q = resolver.qualify(t);
      if (splitAddress(q, ctx.recipientDelimiter).local.toLowerCase() === p.local.toLowerCase() && resolver.resolveDetailed(q).addressClass === 'local') {
        out.push(q);
        continue;
      }
      const err = walk(q, depth + 1);
      if (err) return err;
      if (out.length > limit) return aliasError(`unreasonable alias_maps expansion size for ${address}`);
    }
    return undefined;
  };
  for (const a of addresses) {
    const err = walk(a, 0);
    if (err) return err;
  }
  const res: Expansion = { kind: 'addresses', addresses: dedupe(out) };
  if (unsupported.length > 0) res.unsupported = unsupported;
  return res;
}

/** Virtual, then (by default) alias expansion. */
export function expandRecipient(resolver: PostfixResolver, recipient: string, opts: ExpandOptions = {}): Expansion {
  const v = expandVirtual(resolver, recipient);
  if (v.kind === 'error' || opts.aliases === false) return v;
  return expandAliases(resolver, v.addresses);
}

/** aliases(5) right-hand side: comma-separated, `"…"` quoting kept for commands with commas. */
export function splitAliasTargets(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of value) {
    if (ch === '"') {
      quoted = !quoted;
      continue;
    }
    if (!quoted && ch === ',') {
      if (cur.trim() !== '') out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out.flatMap((t) => (t.startsWith('|') || t.startsWith('/') || t.toLowerCase().startsWith(':include:') ? [t] : splitAddressList(t)));
}

function dedupe(list: readonly string[]): string[] {
  const seen = new Set<string>();
  return list.filter((a) => {
    const k = a.toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
