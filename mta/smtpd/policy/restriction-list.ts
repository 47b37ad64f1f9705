/*
 * Parses smtpd_*_restrictions and smtpd_restriction_classes values into lists of restrictions,
 * once, at start-up (Postfix smtpd_check_init). Items are separated by commas and/or whitespace;
 * `{ … }` groups one item. Restrictions that take an argument (check_*_access type:table,
 * reject_rbl_client zone, sleep N …) consume the next item. A name that is neither a restriction
 * nor a restriction class is kept as `unknown` and answers "451 4.3.5 Server configuration error"
 * when reached, as Postfix does. Pure.
 */
import { splitListBraced } from '../../../shared/config/postfix/values.js';

export interface Restriction {
  name: string;
  arg?: string;
}

/** Restrictions that take one argument. */
export const WITH_ARGUMENT: ReadonlySet<string> = new Set([
  'check_client_access', 'check_reverse_client_hostname_access', 'check_client_a_access', 'check_client_mx_access',
  'check_client_ns_access', 'check_reverse_client_hostname_a_access', 'check_reverse_client_hostname_mx_access',
  'check_reverse_client_hostname_ns_access', 'check_helo_access', 'check_helo_a_access', 'check_helo_mx_access',
  'check_helo_ns_access', 'check_sender_access', 'check_sender_a_access', 'check_sender_mx_access',
  'check_sender_ns_access', 'check_recipient_access', 'check_recipient_a_access', 'check_recipient_mx_access',
  'check_recipient_ns_access', 'check_etrn_access', 'check_ccert_access', 'check_sasl_access', 'check_policy_service',
  'reject_rbl_client', 'reject_rhsbl_client', 'reject_rhsbl_reverse_client', 'reject_rhsbl_sender', 'reject_rhsbl_helo',
  'reject_rhsbl_recipient', 'permit_dnswl_client', 'permit_rhswl_client', 'reject_maps_rbl', 'sleep',
]);

/** Restrictions without an argument that this engine implements (plus the WITH_ARGUMENT ones). */
export const SIMPLE: ReadonlySet<string> = new Set([
  'permit', 'reject', 'defer', 'dunno', 'warn_if_reject', 'defer_if_permit', 'defer_if_reject',
  'permit_mynetworks', 'permit_sasl_authenticated', 'permit_inet_interfaces', 'permit_tls_clientcerts',
  'permit_tls_all_clientcerts', 'reject_unauth_destination', 'defer_unauth_destination', 'permit_auth_destination',
  'check_relay_domains', 'permit_mx_backup', 'reject_unlisted_recipient', 'reject_unlisted_sender',
  'reject_unknown_recipient_domain', 'reject_unknown_sender_domain', 'reject_non_fqdn_recipient',
  'reject_non_fqdn_sender', 'reject_non_fqdn_helo_hostname', 'reject_non_fqdn_hostname',
  'reject_invalid_helo_hostname', 'reject_invalid_hostname', 'reject_unknown_helo_hostname', 'reject_unknown_hostname',
  'reject_unknown_client_hostname', 'reject_unknown_client', 'reject_unknown_reverse_client_hostname',
  'reject_unauth_pipelining', 'reject_plaintext_session', 'reject_sender_login_mismatch',
  'reject_authenticated_sender_login_mismatch', 'reject_known_sender_login_mismatch',
  'reject_unauthenticated_sender_login_mismatch', 'reject_multi_recipient_bounce', 'reject_unverified_recipient',
  'reject_unverified_sender', 'reject_unknown_forward_client_hostname', 'permit_naked_ip_address',
  'check_recipient_maps',
]);

export type ParsedItem = Restriction & { unknown?: true };

/** Parses one restriction list; `classes` are the smtpd_restriction_classes names. */
export function parseRestrictions(value: string, classes: ReadonlySet<string>): ParsedItem[] {
  const words = splitListBraced(value);
  const out: ParsedItem[] = [];
  for (let i = 0; i < words.length; i++) {
    const raw = words[i]!;
    const name = raw.toLowerCase();
    if (WITH_ARGUMENT.has(name)) {
      const arg = words[i + 1];
      if (arg === undefined) out.push({ name, unknown: true });
      else out.push({ name, arg });
      i++;
    } else if (SIMPLE.has(name) || classes.has(raw)) out.push({ name: classes.has(raw) ? raw : name });
    else out.push({ name: raw, unknown: true });
  }
  return out;
}

/** Restrictions that make a relay/recipient list safe (Postfix refuses lists without one). */
export const RELAY_GUARDS: ReadonlySet<string> = new Set([
  'reject_unauth_destination', 'defer_unauth_destination', 'reject', 'defer', 'defer_if_permit', 'check_relay_domains',
]);
