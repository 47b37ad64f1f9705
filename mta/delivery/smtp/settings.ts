/*
 * The smtp(8) agent's parameters, read once from the configuration into a typed value (names and
 * defaults in mta/params.ts; master.cf `-o` overrides arrive through the config's overrides).
 * Times are milliseconds here. Tests build settings with smaller timeouts through `overrides`.
 */
import type { PostfixConfig } from '../../../shared/config/postfix/config.js';
import { splitListBraced } from '../../../shared/config/postfix/values.js';
import { parseInetProtocols, type InetProtocols } from './mx-order.js';
import type { MimeLimits } from './mime-8to7.js';
import { parsePort } from './nexthop.js';
import type { TlsDefaults } from './tls-policy.js';

export interface SmtpTimeouts {
  connect: number;
  helo: number;
  starttls: number;
  mail: number;
  rcpt: number;
  dataInit: number;
  dataXfer: number;
  dataDone: number;
  rset: number;
  quit: number;
}

export interface SmtpSettings {
  heloName: string;
  myhostname: string;
  defaultPort: number;
  relayhost: string;
  protocols: InetProtocols;
  bindAddress: string;
  bindAddress6: string;
  mxAddressLimit: number;
  mxSessionLimit: number;
  randomizeAddresses: boolean;
  balanceInetProtocols: boolean;
  skip5xxGreeting: boolean;
  neverSendEhlo: boolean;
  lineLimit: number;
  /** disable_mime_output_conversion: send 8-bit content to a server without 8BITMIME as is. */
  disableMimeOutputConversion: boolean;
  /** Limits of the 8-bit → 7-bit converter (line_length_limit, header_size_limit, mime_*_limit). */
  mime: MimeLimits;
  timeouts: SmtpTimeouts;
  tls: TlsDefaults & { caFile: string; caPath: string; policyMaps: string[]; connectionReuse: boolean };
  sasl: {
    enable: boolean;
    passwordMaps: string[];
    securityOptions: string[];
    tlsSecurityOptions: string[];
    mechanismFilter: string[];
    senderDependent: boolean;
    softBounce: boolean;
  };
  cache: { onDemand: boolean; destinations: string[]; timeLimit: number; reuseTimeLimit: number; reuseCountLimit: number };
  dnsServers: string[];
  /** inet_interfaces and proxy_interfaces, for loop detection (`all` = every local interface). */
  inetInterfaces: string[];
  proxyInterfaces: string[];
}

const ms = (cfg: PostfixConfig, name: string): number => cfg.getTime(name, 's') * 1000;

export function smtpSettings(cfg: PostfixConfig): SmtpSettings {
  const list = (n: string): string[] => cfg.getList(n);
  // Table lists keep `inline:{ … }` whole.
  const maps = (n: string): string[] => splitListBraced(cfg.get(n));
  return {
    heloName: cfg.get('smtp_helo_name'),
    myhostname: cfg.get('myhostname'),
    defaultPort: parsePort(cfg.get('smtp_tcp_port')) ?? 25,
    relayhost: cfg.get('relayhost'),
    protocols: parseInetProtocols(list('inet_protocols')),
    bindAddress: cfg.get('smtp_bind_address'),
    bindAddress6: cfg.get('smtp_bind_address6'),
    mxAddressLimit: cfg.getInt('smtp_mx_address_limit'),
    mxSessionLimit: cfg.getInt('smtp_mx_session_limit'),
    randomizeAddresses: cfg.getBool('smtp_randomize_addresses'),
    balanceInetProtocols: cfg.getBool('smtp_balance_inet_protocols'),
    skip5xxGreeting: cfg.getBool('smtp_skip_5xx_greeting'),
    neverSendEhlo: cfg.getBool('smtp_never_send_ehlo'),
    lineLimit: cfg.getInt('line_length_limit'),
    disableMimeOutputConversion: cfg.getBool('disable_mime_output_conversion'),
    mime: {
      lineLimit: cfg.getInt('line_length_limit'),
      headerLimit: cfg.getInt('header_size_limit'),
      boundaryLimit: cfg.getInt('mime_boundary_length_limit'),
      nestingLimit: cfg.getInt('mime_nesting_limit'),
    },
    timeouts: {
      connect: ms(cfg, 'smtp_connect_timeout'),
      helo: ms(cfg, 'smtp_helo_timeout'),
      starttls: ms(cfg, 'smtp_starttls_timeout'),
      mail: ms(cfg, 'smtp_mail_timeout'),
      rcpt: ms(cfg, 'smtp_rcpt_timeout'),
      dataInit: ms(cfg, 'smtp_data_init_timeout'),
      dataXfer: ms(cfg, 'smtp_data_xfer_timeout'),
      dataDone: ms(cfg, 'smtp_data_done_timeout'),
      rset: ms(cfg, 'smtp_rset_timeout'),
      quit: ms(cfg, 'smtp_quit_timeout'),
    },
    tls: {
      securityLevel: cfg.get('smtp_tls_security_level'),
      useTls: cfg.getBool('smtp_use_tls'),
      enforceTls: cfg.getBool('smtp_enforce_tls'),
      enforcePeername: cfg.getBool('smtp_tls_enforce_peername'),
      mandatoryProtocols: cfg.get('smtp_tls_mandatory_protocols'),
      verifyCertMatch: list('smtp_tls_verify_cert_match'),
      secureCertMatch: list('smtp_tls_secure_cert_match'),
      caFile: cfg.get('smtp_tls_CAfile'),
      caPath: cfg.get('smtp_tls_CApath'),
      policyMaps: maps('smtp_tls_policy_maps'),
      connectionReuse: cfg.getBool('smtp_tls_connection_reuse'),
    },
    sasl: {
      enable: cfg.getBool('smtp_sasl_auth_enable'),
      passwordMaps: maps('smtp_sasl_password_maps'),
      securityOptions: list('smtp_sasl_security_options'),
      tlsSecurityOptions: list('smtp_sasl_tls_security_options'),
      mechanismFilter: list('smtp_sasl_mechanism_filter'),
      senderDependent: cfg.getBool('smtp_sender_dependent_authentication'),
      softBounce: cfg.getBool('smtp_sasl_auth_soft_bounce'),
    },
    cache: {
      onDemand: cfg.getBool('smtp_connection_cache_on_demand'),
      destinations: list('smtp_connection_cache_destinations'),
      timeLimit: ms(cfg, 'smtp_connection_cache_time_limit'),
      reuseTimeLimit: ms(cfg, 'smtp_connection_reuse_time_limit'),
      reuseCountLimit: cfg.getInt('smtp_connection_reuse_count_limit'),
    },
    dnsServers: list('postern_dns_servers'),
    inetInterfaces: list('inet_interfaces'),
    proxyInterfaces: list('proxy_interfaces'),
  };
}
