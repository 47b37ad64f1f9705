/*
 * Key search orders of Postfix's table users, as pure functions: given an address, domain or client
 * address they return the keys to look up, in order; the first key that a table answers wins.
 * No I/O and no table access: callers (smtpd restrictions, cleanup, trivial-rewrite, local) loop.
 *
 * Follows access(5), virtual(5), transport(5), canonical(5), aliases(5) and smtpd_check.c's
 * parent-domain walk. Keys are returned as given (callers' tables fold case).
 * Distrusts: the address (no `@`, empty parts and leading delimiters are handled, never thrown).
 */

export interface AddressParts {
  readonly local: string;
  readonly domain: string | undefined;
  /** Local part without the extension (`user` of `user+foo`), undefined when there is none. */
  readonly baseLocal: string | undefined;
}

/**
 * Splits `local@domain` at the last `@` and the local part at the first recipient_delimiter
 * character (each character of the setting is a delimiter, Postfix ≥ 2.11). A delimiter in first
 * position does not start an extension.
 */
export function splitAddress(address: string, recipientDelimiter = ''): AddressParts {
  const at = address.lastIndexOf('@');
  const local = at < 0 ? address : address.slice(0, at);
  const domain = at < 0 ? undefined : address.slice(at + 1);
  let baseLocal: string | undefined;
  if (recipientDelimiter !== '') {
    for (let i = 1; i < local.length; i++) {
      if (recipientDelimiter.includes(local[i] as string)) {
        baseLocal = local.slice(0, i);
        break;
      }
    }
  }
  return { local, domain, baseLocal };
}

/**
 * Parent-domain walk: `sub.example.com`, then `example.com` and `com` when the map's parameter is
 * listed in parent_domain_matches_subdomains, else `.example.com` and `.com`.
 */
export function domainKeys(domain: string, parentMatchesSubdomains: boolean): string[] {
  const keys: string[] = [];
  let name = domain;
  for (;;) {
    if (name !== '' && name !== '.') keys.push(name);
    const dot = name.indexOf('.', 1);
    if (dot < 0) break;
    name = parentMatchesSubdomains ? name.slice(dot + 1) : name.slice(dot);
  }
  return keys;
}

export interface AccessOptions {
  /** recipient_delimiter. */
  readonly recipientDelimiter?: string;
  /** True when `smtpd_access_maps` is in parent_domain_matches_subdomains (the default). */
  readonly parentMatchesSubdomains?: boolean;
  /** smtpd_null_access_lookup_key, default `<>`. */
  readonly nullKey?: string;
}

/** access(5) for a sender/recipient address: full, unextended, domain walk, `local@` forms. */
export function accessAddressKeys(address: string, opts: AccessOptions = {}): string[] {
  if (address === '') return [opts.nullKey ?? '<>'];
  const p = splitAddress(address, opts.recipientDelimiter);
  const keys: string[] = [address];
  if (p.baseLocal !== undefined && p.domain !== undefined) keys.push(`${p.baseLocal}@${p.domain}`);
  if (p.domain !== undefined) keys.push(...domainKeys(p.domain, opts.parentMatchesSubdomains ?? true));
  keys.push(`${p.local}@`);
  if (p.baseLocal !== undefined) keys.push(`${p.baseLocal}@`);
  return unique(keys);
}

/** access(5) for a host name (client, HELO, MX/NS names): the domain walk only. */
export function accessHostKeys(host: string, parentMatchesSubdomains = true): string[] {
  return domainKeys(host, parentMatchesSubdomains);
}

/**
 * access(5) for a client address: `1.2.3.4`, `1.2.3`, `1.2`, `1`; IPv6 in the form given (Postfix
 * uses the compressed form) cut at each `:` from the right: `2001:db8::1`, `2001:db8:`, `2001:db8`,
 * `2001`.
 */
export function accessAddrKeys(addr: string): string[] {
  const delim = addr.includes(':') ? ':' : '.';
  const keys: string[] = [];
  let cur = addr;
  while (cur !== '') {
    keys.push(cur);
    const cut = cur.lastIndexOf(delim);
    if (cut < 0) break;
    cur = cur.slice(0, cut);
  }
  return unique(keys);
}

export interface RewriteOptions {
  readonly recipientDelimiter?: string;
  /** True when the domain is $myorigin, in $mydestination, or an $inet_interfaces/$proxy_interfaces address. */
  readonly localDomain: boolean;
}

/**
 * virtual(5) and canonical(5): `user+foo@domain`, `user@domain`, then (local domains only)
 * `user+foo`, `user`, and last the `@domain` catch-all.
 */
export function virtualKeys(address: string, opts: RewriteOptions): string[] {
  const p = splitAddress(address, opts.recipientDelimiter);
  const keys: string[] = [address];
  if (p.domain === undefined) {
    if (p.baseLocal !== undefined) keys.push(p.baseLocal);
    return unique(keys);
  }
  if (p.baseLocal !== undefined) keys.push(`${p.baseLocal}@${p.domain}`);
  if (opts.localDomain) {
    keys.push(p.local);
    if (p.baseLocal !== undefined) keys.push(p.baseLocal);
  }
  keys.push(`@${p.domain}`);
  return unique(keys);
}

export const canonicalKeys = virtualKeys;

export interface TransportOptions {
  readonly recipientDelimiter?: string;
  /** True when `transport_maps` is in parent_domain_matches_subdomains (NOT by default). */
  readonly parentMatchesSubdomains?: boolean;
}

/**
 * transport(5): `user+foo@domain`, `user@domain`, `domain`, parent domains (`.domain` style by
 * default), then `*`.
 */
export function transportKeys(address: string, opts: TransportOptions = {}): string[] {
  const p = splitAddress(address, opts.recipientDelimiter);
  const keys: string[] = [address];
  if (p.baseLocal !== undefined && p.domain !== undefined) keys.push(`${p.baseLocal}@${p.domain}`);
  if (p.domain !== undefined) keys.push(...domainKeys(p.domain, opts.parentMatchesSubdomains ?? false));
  keys.push('*');
  return unique(keys);
}

/** aliases(5) as local(8) consults them: the local part, then without its extension. */
export function aliasKeys(localPart: string, recipientDelimiter = ''): string[] {
  const p = splitAddress(localPart, recipientDelimiter);
  return unique(p.baseLocal !== undefined ? [p.local, p.baseLocal] : [p.local]);
}

function unique(keys: string[]): string[] {
  return [...new Set(keys)];
}
