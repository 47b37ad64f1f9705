/*
 * The seam to trivial-rewrite (Postfix's address resolver, ADDRESS_CLASS_README): one place that
 * knows address classes and next hops, used by smtpd (recipient validation, relay checks), cleanup
 * (rewriting) and qmgr (routing). Lookups go through shared/config/tables with the search orders of
 * access(5), virtual(5), transport(5), canonical(5) and aliases(5).
 */

export type AddressClass = 'local' | 'virtual-alias' | 'virtual-mailbox' | 'relay' | 'default';

export interface Resolution {
  /** The address as the resolver normalised it (qualified, lower-cased domain). */
  address: string;
  addressClass: AddressClass;
  /** master.cf service name: `lmtp`, `smtp`, `relay`, `local`, `virtual`, `error`, `discard` … */
  transport: string;
  /** The transport's next hop (`unix:private/dovecot-lmtp`, `[relay.example]:587`, a domain, or error text). */
  nexthop: string;
  /** transport_maps or an address class said the address cannot be delivered (error: transport). */
  error?: { dsn: string; text: string };
}

export interface Resolver {
  /** Qualifies an unqualified address with $myorigin (Postfix's append_at_myorigin). */
  qualify(address: string): string;
  /** Address class and next hop of a (rewritten) recipient. */
  resolve(address: string): Resolution;
}

/** Result of virtual/alias expansion of one recipient: the final addresses, or a failure. */
export type Expansion =
  | {
      kind: 'addresses';
      addresses: string[];
      /** aliases(5) targets Postern does not deliver (`|command`, `/file`, `:include:`), per alias name. */
      unsupported?: { alias: string; target: string }[];
    }
  | { kind: 'error'; dsn: string; text: string; logDetail?: string };
