/*
 * Sendmail macros sent to milters (pure): the per-stage name lists (milter_*_macros, defaults as
 * Postfix 3.7's `postconf -d` prints them) and their evaluation into the name/value pairs of an
 * SMFIC_MACRO packet.
 *
 * As Postfix's milter_macro_lookup(): names are sent as written in the list (`j`, `{daemon_name}`);
 * a macro whose value is unknown is left out, unless milter_macro_defaults gives one; the packet
 * is sent even when no macro is left (recorded from real Postfix: `D` `H` with no pairs).
 * The lookup is asked with the brace form (`{j}`), so one table serves both spellings.
 */
import type { MacroStage } from './codec.js';

export type MacroListStage = MacroStage | 'unknown';

export type MilterMacroLists = Readonly<Record<MacroListStage, string>>;

/** `postconf -d` of Postfix 3.7.11 (milter_connect_macros … milter_unknown_command_macros). */
export const DEFAULT_MILTER_MACROS: MilterMacroLists = {
  connect: 'j {daemon_name} {daemon_addr} v _',
  helo: '{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}',
  mail: 'i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}',
  rcpt: 'i {rcpt_addr} {rcpt_host} {rcpt_mailer}',
  data: 'i',
  eoh: 'i',
  eom: 'i',
  unknown: '',
};

/** Value of a macro by its brace name (`{j}`), undefined when not defined now. */
export type MacroLookup = (name: string) => string | undefined;

export function macroNames(list: string): string[] {
  return list.split(/[\s,]+/).filter((s) => s !== '');
}

/** The brace form of a macro name: `j` → `{j}`, `{j}` unchanged. */
export function braceName(name: string): string {
  return name.startsWith('{') ? name : `{${name}}`;
}

/** Parses milter_macro_defaults (`name=value` items, comma or space separated). */
export function parseMacroDefaults(value: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of macroNames(value)) {
    const eq = item.indexOf('=');
    if (eq > 0) out.set(braceName(item.slice(0, eq)), item.slice(eq + 1));
  }
  return out;
}

export function evalMacros(list: string, lookup: MacroLookup, defaults?: ReadonlyMap<string, string>): Array<readonly [string, string]> {
  const out: Array<readonly [string, string]> = [];
  for (const name of macroNames(list)) {
    const value = lookup(braceName(name)) ?? defaults?.get(braceName(name));
    if (value !== undefined) out.push([name, value]);
  }
  return out;
}

/**
 * What Postfix's smtpd_milter_eval() computes, for the wiring: smtpd fills in what it knows at
 * each stage (undefined = not defined yet) and passes `macroLookup(values)` to the session.
 */
export interface SmtpdMacroValues {
  /** `$myhostname` */
  j?: string;
  /** milter_macro_daemon_name */
  daemonName?: string;
  /** milter_macro_v (`$mail_name $mail_version`, "Postfix 3.7.11" in real Postfix) */
  v?: string;
  /** Server address and port the client connected to. */
  daemonAddr?: string;
  daemonPort?: string;
  /** Verified client name or `unknown`, the reverse (PTR) name, the address. */
  clientName?: string;
  clientPtr?: string;
  clientAddr?: string;
  clientPort?: string;
  clientConnections?: number;
  clientResolve?: 'OK' | 'FORGED' | 'TEMP' | 'FAIL';
  tlsVersion?: string;
  cipher?: string;
  cipherBits?: number;
  certSubject?: string;
  certIssuer?: string;
  queueId?: string;
  authType?: string;
  authAuthen?: string;
  authAuthor?: string;
  /** Resolved sender: address (no brackets; "" for the null sender), next hop, transport. */
  mailAddr?: string;
  mailHost?: string;
  mailMailer?: string;
  rcptAddr?: string;
  rcptHost?: string;
  rcptMailer?: string;
}

export function macroLookup(v: SmtpdMacroValues): MacroLookup {
  return (name) => {
    switch (name) {
      case '{j}': return v.j;
      case '{daemon_name}': return v.daemonName;
      case '{v}': return v.v;
      case '{daemon_addr}': return v.daemonAddr;
      case '{daemon_port}': return v.daemonPort;
      case '{_}':
        if (v.clientPtr === undefined || v.clientAddr === undefined) return undefined;
        return `${v.clientPtr} [${v.clientAddr}]${(v.clientName ?? '').toLowerCase() !== v.clientPtr.toLowerCase() ? ' (may be forged)' : ''}`;
      case '{client_addr}': return v.clientAddr;
      case '{client_port}': return v.clientPort ?? (v.clientAddr !== undefined ? '0' : undefined);
      case '{client_connections}': return v.clientConnections?.toString();
      case '{client_name}': return v.clientName;
      case '{client_ptr}': return v.clientPtr;
      case '{client_resolve}': return v.clientResolve;
      case '{tls_version}': return v.tlsVersion;
      case '{cipher}': return v.cipher;
      case '{cipher_bits}': return v.cipherBits?.toString();
      case '{cert_subject}': return v.certSubject;
      case '{cert_issuer}': return v.certIssuer;
      case '{i}': return v.queueId;
      case '{auth_type}': return v.authType;
      case '{auth_authen}': return v.authAuthen;
      case '{auth_author}': return v.authAuthor;
      case '{mail_addr}': return v.mailAddr;
      case '{mail_host}': return v.mailHost;
      case '{mail_mailer}': return v.mailMailer;
      case '{rcpt_addr}': return v.rcptAddr;
      case '{rcpt_host}': return v.rcptHost;
      case '{rcpt_mailer}': return v.rcptMailer;
      default: return undefined;
    }
  };
}
