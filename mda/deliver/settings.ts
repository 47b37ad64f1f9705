/*
 * The delivery (LDA/LMTP) view of the MDA settings table (mda/settings.ts), read through the
 * `protocol lmtp` filter. Declares no defaults of its own: Dovecot's come from the table, and the
 * Postern-only LMTP limits (postern_lmtp_*: message size, recipients, line lengths, bad commands,
 * idle time — Dovecot compiles its lib-smtp limits in) are declared there too and set in `plugin { }`.
 * Times are converted to milliseconds here.
 */
import { hostname as osHostname } from 'node:os';
import type { DovecotConfig } from '../../shared/config/dovecot/config.js';
import { inboxNamespace, millis, readMdaSettings, type MdaSettings } from '../settings.js';

export type DeliveryAddressHeader = 'final' | 'original' | 'none';

export interface DeliverySettings {
  hostname: string;
  login_greeting: string;
  mail_location: string;
  /** The home of a user the userdb gives none (unexpanded; '' = none). */
  mail_home: string;
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
  /** Postern-only limits (see mda/settings.ts POSTERN_SETTINGS); bytes, counts, ms. */
  postern_lmtp_max_message_size: number;
  postern_lmtp_max_recipients: number;
  postern_lmtp_max_line_length: number;
  postern_lmtp_hard_max_line_length: number;
  postern_lmtp_max_bad_commands: number;
  postern_lmtp_idle_timeout: number;
}

/** The delivery view of settings read with the `protocol lmtp` filter. */
export function deliverySettingsOf(s: MdaSettings): DeliverySettings {
  const hdr = s.lmtp_hdr_delivery_address;
  return {
    hostname: s.hostname || osHostname(),
    login_greeting: s.login_greeting,
    mail_location: s.mail_location,
    mail_home: s.mail_home,
    recipient_delimiter: s.recipient_delimiter,
    lmtp_save_to_detail_mailbox: s.lmtp_save_to_detail_mailbox,
    lda_mailbox_autocreate: s.lda_mailbox_autocreate,
    lda_mailbox_autosubscribe: s.lda_mailbox_autosubscribe,
    lmtp_add_received_header: s.lmtp_add_received_header,
    lmtp_hdr_delivery_address: hdr === 'original' || hdr === 'none' ? hdr : 'final',
    quota_full_tempfail: s.quota_full_tempfail,
    first_valid_uid: s.first_valid_uid,
    last_valid_uid: s.last_valid_uid,
    first_valid_gid: s.first_valid_gid,
    last_valid_gid: s.last_valid_gid,
    mail_uid: s.mail_uid,
    mail_gid: s.mail_gid,
    mail_plugins: s.mail_plugins.split(/[\s,]+/).filter((p) => p !== '' && !p.startsWith('$')),
    plugin: s.plugin,
    separator: inboxNamespace(s)?.separator ?? '',
    postern_lmtp_max_message_size: s.postern_lmtp_max_message_size,
    postern_lmtp_max_recipients: s.postern_lmtp_max_recipients,
    postern_lmtp_max_line_length: s.postern_lmtp_max_line_length,
    postern_lmtp_hard_max_line_length: s.postern_lmtp_hard_max_line_length,
    postern_lmtp_max_bad_commands: s.postern_lmtp_max_bad_commands,
    postern_lmtp_idle_timeout: millis(s.postern_lmtp_idle_timeout),
  };
}

/** Reads the delivery settings as `protocol lmtp { }` sees them. */
export function deliverySettings(cfg: DovecotConfig): DeliverySettings {
  return deliverySettingsOf(readMdaSettings(cfg, { protocol: 'lmtp' }));
}
