/*
 * The delivery (LDA/LMTP) settings table: each parameter spelled as Dovecot 2.3 spells it, read
 * from dovecot.conf through the `protocol lmtp` filter, with Dovecot's defaults coming from the
 * config catalogue. Postern-only limits (lmtp message size, recipients, line length) are not
 * dovecot.conf settings (Dovecot would refuse unknown names), so they are fixed here as config
 * text, the way Dovecot compiles in its lib-smtp limits.
 */
import { hostname as osHostname } from 'node:os';
import type { DovecotConfig } from '../../shared/config/dovecot/config.js';
import { parseSize } from '../../shared/config/dovecot/values.js';

export type DeliveryAddressHeader = 'final' | 'original' | 'none';

export interface DeliverySettings {
  hostname: string;
  login_greeting: string;
  mail_location: string;
  recipient_delimiter: string;
  lmtp_save_to_detail_mailbox: boolean;
  lda_mailbox_autocreate: boolean;
  lda_mailbox_autosubscribe: boolean;
  lmtp_add_received_header: boolean;
  lmtp_hdr_delivery_address: DeliveryAddressHeader;
  quota_full_tempfail: boolean;
  first_valid_uid: number;
  last_valid_uid: number;
  first_valid_gid: number;
  last_valid_gid: number;
  mail_uid: string;
  mail_gid: string;
  /** `mail_plugins` for protocol lmtp, split. */
  mail_plugins: string[];
  /** plugin { } settings for protocol lmtp (quota, quota_rule, quota_rule2 …). */
  plugin: ReadonlyMap<string, string>;
  /** Namespace hierarchy separator of the inbox namespace ('' = storage default). */
  separator: string;
  /** Postern limits (see header). */
  lmtp_max_message_size: number;
  lmtp_max_recipients: number;
  lmtp_line_limit: number;
  lmtp_idle_timeout_ms: number;
}

/** Postern-only LMTP limits, as config text. */
export const POSTERN_LMTP_LIMITS = {
  lmtp_max_message_size: '100 M',
  lmtp_max_recipients: '1000',
  lmtp_line_limit: '4096',
  lmtp_idle_timeout: '5 mins',
} as const;

export function deliverySettings(cfg: DovecotConfig): DeliverySettings {
  const f = { protocol: 'lmtp' };
  const g = (k: string): string => cfg.get(k, f);
  const inbox = cfg.namespaces(f).find((n) => n.get('inbox') === 'yes');
  const hdr = g('lmtp_hdr_delivery_address');
  return {
    hostname: g('hostname') || osHostname(),
    login_greeting: g('login_greeting'),
    mail_location: g('mail_location'),
    recipient_delimiter: g('recipient_delimiter'),
    lmtp_save_to_detail_mailbox: cfg.getBool('lmtp_save_to_detail_mailbox', f),
    lda_mailbox_autocreate: cfg.getBool('lda_mailbox_autocreate', f),
    lda_mailbox_autosubscribe: cfg.getBool('lda_mailbox_autosubscribe', f),
    lmtp_add_received_header: cfg.getBool('lmtp_add_received_header', f),
    lmtp_hdr_delivery_address: hdr === 'original' || hdr === 'none' ? hdr : 'final',
    quota_full_tempfail: cfg.getBool('quota_full_tempfail', f),
    first_valid_uid: cfg.getUint('first_valid_uid', f),
    last_valid_uid: cfg.getUint('last_valid_uid', f),
    first_valid_gid: cfg.getUint('first_valid_gid', f),
    last_valid_gid: cfg.getUint('last_valid_gid', f),
    mail_uid: g('mail_uid'),
    mail_gid: g('mail_gid'),
    mail_plugins: g('mail_plugins').split(/[\s,]+/).filter((p) => p !== '' && !p.startsWith('$')),
    plugin: cfg.plugin(f),
    separator: inbox?.get('separator') ?? '',
    lmtp_max_message_size: Number(parseSize(POSTERN_LMTP_LIMITS.lmtp_max_message_size) ?? 100n * 1024n * 1024n),
    lmtp_max_recipients: Number(POSTERN_LMTP_LIMITS.lmtp_max_recipients),
    lmtp_line_limit: Number(POSTERN_LMTP_LIMITS.lmtp_line_limit),
    lmtp_idle_timeout_ms: 300_000,
  };
}
