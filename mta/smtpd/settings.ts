/*
 * The smtpd parameters Postern's smtpd honours, read once per service from the PostfixConfig
 * (main.cf plus that master.cf service's `-o` overrides) into one typed value. Names and defaults
 * are Postfix 3.7.11's (mta/params.ts). Reading is pure over the PostfixConfig.
 */
import type { PostfixConfig } from '../../shared/config/postfix/config.js';
import { parseSecurityOptions, type SaslSecurityOption } from './sasl/mechanisms.js';

export type BareNewlineMode = 'no' | 'normalize' | 'reject';
export type TlsLevel = '' | 'none' | 'may' | 'encrypt';

export interface SmtpdSettings {
  myhostname: string;
  /** smtpd_banner, expanded. */
  banner: string;
  lineLimit: number;
  messageSizeLimit: number;
  recipientLimit: number;
  recipientOvershootLimit: number;
  softErrorLimit: number;
  hardErrorLimit: number;
  junkCommandLimit: number;
  /** Seconds. */
  errorSleepTime: number;
  /** Seconds. */
  timeout: number;
  starttlsTimeout: number;
  heloRequired: boolean;
  disableVrfy: boolean;
  /** Upper-case keywords from smtpd_discard_ehlo_keywords. */
  discardEhloKeywords: string[];
  smtputf8Enable: boolean;
  forbidBareNewline: BareNewlineMode;
  forbidBareNewlineRejectCode: number;
  forbidUnauthPipelining: boolean;
  tlsLevel: TlsLevel;
  tlsWrapperMode: boolean;
  tlsAuthOnly: boolean;
  saslAuthEnable: boolean;
  saslService: string;
  saslSecurityOptions: SaslSecurityOption[];
  saslTlsSecurityOptions: SaslSecurityOption[];
  brokenSaslAuthClients: boolean;
  saslAuthenticatedHeader: boolean;
  tlsReceivedHeader: boolean;
  fastFlushDomains: string[];
  softBounce: boolean;
  clientPortLogging: boolean;
  peernameLookup: boolean;
}

function bareNewline(v: string): BareNewlineMode {
  const s = v.trim().toLowerCase();
  if (s === 'normalize' || s === 'yes') return 'normalize';
  if (s === 'reject') return 'reject';
  return 'no';
}

function tlsLevel(cfg: PostfixConfig): TlsLevel {
  const v = cfg.get('smtpd_tls_security_level').trim().toLowerCase();
  if (v === 'may' || v === 'encrypt' || v === 'none') return v;
  // Obsolete switches, used when the level is empty (as Postfix does).
  if (cfg.getBool('smtpd_enforce_tls')) return 'encrypt';
  if (cfg.getBool('smtpd_use_tls')) return 'may';
  return '';
}

export function smtpdSettings(cfg: PostfixConfig): SmtpdSettings {
  const sec = (name: string) => parseSecurityOptions(cfg.getList(name)).options;
  return {
    myhostname: cfg.get('myhostname'),
    banner: cfg.get('smtpd_banner'),
    lineLimit: cfg.getInt('line_length_limit'),
    messageSizeLimit: Number(cfg.get('message_size_limit')) || 0,
    recipientLimit: cfg.getInt('smtpd_recipient_limit'),
    recipientOvershootLimit: cfg.getInt('smtpd_recipient_overshoot_limit'),
    softErrorLimit: cfg.getInt('smtpd_soft_error_limit'),
    hardErrorLimit: cfg.getInt('smtpd_hard_error_limit'),
    junkCommandLimit: cfg.getInt('smtpd_junk_command_limit'),
    errorSleepTime: cfg.getTime('smtpd_error_sleep_time'),
    timeout: cfg.getTime('smtpd_timeout'),
    starttlsTimeout: cfg.getTime('smtpd_starttls_timeout'),
    heloRequired: cfg.getBool('smtpd_helo_required'),
    disableVrfy: cfg.getBool('disable_vrfy_command'),
    discardEhloKeywords: cfg.getList('smtpd_discard_ehlo_keywords').map((k) => k.toUpperCase()),
    smtputf8Enable: cfg.getBool('smtputf8_enable'),
    forbidBareNewline: bareNewline(cfg.get('smtpd_forbid_bare_newline')),
    forbidBareNewlineRejectCode: cfg.getInt('smtpd_forbid_bare_newline_reject_code'),
    forbidUnauthPipelining: cfg.getBool('smtpd_forbid_unauth_pipelining'),
    tlsLevel: tlsLevel(cfg),
    tlsWrapperMode: cfg.getBool('smtpd_tls_wrappermode'),
    tlsAuthOnly: cfg.getBool('smtpd_tls_auth_only'),
    saslAuthEnable: cfg.getBool('smtpd_sasl_auth_enable'),
    saslService: cfg.get('smtpd_sasl_service'),
    saslSecurityOptions: sec('smtpd_sasl_security_options'),
    saslTlsSecurityOptions: sec('smtpd_sasl_tls_security_options'),
    brokenSaslAuthClients: cfg.getBool('broken_sasl_auth_clients'),
    saslAuthenticatedHeader: cfg.getBool('smtpd_sasl_authenticated_header'),
    tlsReceivedHeader: cfg.getBool('smtpd_tls_received_header'),
    fastFlushDomains: cfg.getList('fast_flush_domains').map((d) => d.toLowerCase()),
    softBounce: cfg.getBool('soft_bounce'),
    clientPortLogging: cfg.getBool('smtpd_client_port_logging'),
    peernameLookup: cfg.getBool('smtpd_peername_lookup'),
  };
}
