/*
 * Everything trivial-rewrite needs from main.cf, read once: the domain lists that define the
 * address classes (ADDRESS_CLASS_README), the local interface addresses, the lookup-table lists,
 * myorigin/mydomain/append_dot_mydomain, recipient_delimiter and the transports. Shared by the
 * resolver (qmgr, smtpd), the expansion and canonical functions (cleanup) and smtpd's recipient
 * validation, so every caller agrees on what "local" means.
 *
 * Reads files only through the injected ListIo (default: node:fs and openTable), and only here.
 * Debian's `myorigin = /etc/mailname` is honoured: a myorigin starting with `/` names a file whose
 * first line is the origin (Debian's patch to Postfix).
 */
import { readFileSync } from 'node:fs';
import ipaddr from 'ipaddr.js';
import type { PostfixConfig } from '../../shared/config/postfix/config.js';
import { localAddresses, type LocalAddress } from '../../shared/config/postfix/host-defaults.js';
import { openTable } from '../../shared/config/tables/registry.js';
import type { LookupTable } from '../../shared/config/tables/table.js';
import { splitListBraced } from '../../shared/config/postfix/values.js';
import { compileDomainList, expandFileItems, type DomainList, type ListIo } from './domain-list.js';
import { MapList } from './maps.js';

export interface ResolveContextOptions {
  io?: Partial<ListIo>;
  /** The host's interface addresses (inet_interfaces = all). Default: node:os. */
  interfaces?: () => LocalAddress[];
  /** Table warnings (Postfix `warning:` lines). */
  warn?: (msg: string) => void;
}

export interface ResolveContext {
  readonly cfg: PostfixConfig;
  readonly myhostname: string;
  readonly mydomain: string;
  readonly myorigin: string;
  readonly appendDotMydomain: boolean;
  readonly recipientDelimiter: string;
  readonly mydestination: DomainList;
  readonly virtualAliasDomains: DomainList;
  readonly virtualMailboxDomains: DomainList;
  readonly relayDomains: DomainList;
  /** inet_interfaces + proxy_interfaces addresses, canonical text form. */
  readonly interfaceAddrs: ReadonlySet<string>;
  readonly maps: {
    virtualAlias: MapList;
    alias: MapList;
    transport: MapList;
    canonical: MapList;
    senderCanonical: MapList;
    recipientCanonical: MapList;
    localRecipient: MapList;
    virtualMailbox: MapList;
    relayRecipient: MapList;
    senderLogin: MapList;
  };
  /** Parameter names listed in parent_domain_matches_subdomains. */
  parentMatches(param: string): boolean;
  /** propagate_unmatched_extensions contains this class (`canonical`, `virtual`, `alias` …). */
  propagates(cls: string): boolean;
  readonly io: ListIo;
}

function canonicalAddr(a: string): string | undefined {
  const s = a.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!ipaddr.isValid(s)) return undefined;
  let ip = ipaddr.parse(s);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  return ip.toString();
}

/** Normalises an address literal's content (`::FFFF:1.2.3.4` → `1.2.3.4`, compressed IPv6). */
export function normaliseAddrLiteral(a: string): string | undefined {
  return canonicalAddr(a);
}

function interfaceSet(cfg: PostfixConfig, ifaces: () => LocalAddress[]): Set<string> {
  const out = new Set<string>();
  const add = (a: string): void => {
    const c = canonicalAddr(a);
    if (c !== undefined) out.add(c);
  };
  for (const param of ['inet_interfaces', 'proxy_interfaces']) {
    for (const item of cfg.getList(param)) {
      const v = item.toLowerCase();
      if (v === 'all') for (const a of ifaces()) add(a.address);
      else if (v === 'loopback-only' || v === 'localhost') {
        add('127.0.0.1');
        add('::1');
      } else add(v);
    }
  }
  return out;
}

/** A list parameter split as Postfix splits map lists: `{ … }` inside an item (inline:{…}) stays whole. */
export function listParam(cfg: PostfixConfig, name: string): string[] {
  return splitListBraced(cfg.get(name));
}

/** Reads the first line of a myorigin file (Debian), falling back to the text itself. */
export function effectiveMyorigin(value: string, readFile: (p: string) => string): string {
  if (!value.startsWith('/')) return value;
  try {
    const line = readFile(value).split('\n').find((l) => l.trim() !== '' && !l.trim().startsWith('#'));
    return line?.trim() ?? value;
  } catch {
    return value;
  }
}

export function createResolveContext(cfg: PostfixConfig, opts: ResolveContextOptions = {}): ResolveContext {
  const cache = new Map<string, LookupTable>();
  const warn = opts.warn ?? (() => undefined);
  const io: ListIo = {
    readFile: opts.io?.readFile ?? ((p) => readFileSync(p, 'utf8')),
    openTable:
      opts.io?.openTable ??
      ((spec) => {
        let t = cache.get(spec);
        if (t === undefined) {
          t = openTable(spec, { warn });
          cache.set(spec, t);
        }
        return t;
      }),
  };
  const parentList = new Set(cfg.getList('parent_domain_matches_subdomains'));
  const parentMatches = (param: string): boolean => parentList.has(param);
  const list = (param: string): DomainList => compileDomainList(listParam(cfg, param), parentMatches(param), io);
  const maps = (param: string): MapList => new MapList(param, expandFileItems(listParam(cfg, param), io), io.openTable);
  const propagate = new Set(cfg.getList('propagate_unmatched_extensions'));
  return {
    cfg,
    myhostname: cfg.get('myhostname'),
    mydomain: cfg.get('mydomain'),
    myorigin: effectiveMyorigin(cfg.get('myorigin'), io.readFile).toLowerCase(),
    appendDotMydomain: cfg.getBool('append_dot_mydomain'),
    recipientDelimiter: cfg.get('recipient_delimiter'),
    mydestination: list('mydestination'),
    virtualAliasDomains: list('virtual_alias_domains'),
    virtualMailboxDomains: list('virtual_mailbox_domains'),
    relayDomains: list('relay_domains'),
    interfaceAddrs: interfaceSet(cfg, opts.interfaces ?? localAddresses),
    maps: {
      virtualAlias: maps('virtual_alias_maps'),
      alias: maps('alias_maps'),
      transport: maps('transport_maps'),
      canonical: maps('canonical_maps'),
      senderCanonical: maps('sender_canonical_maps'),
      recipientCanonical: maps('recipient_canonical_maps'),
      localRecipient: maps('local_recipient_maps'),
      virtualMailbox: maps('virtual_mailbox_maps'),
      relayRecipient: maps('relay_recipient_maps'),
      senderLogin: maps('smtpd_sender_login_maps'),
    },
    parentMatches,
    propagates: (cls) => propagate.has(cls),
    io,
  };
}
