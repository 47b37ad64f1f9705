/*
 * The MDA's settings table: every Dovecot 2.3 setting Postern's LMTP, IMAP, POP3, auth and admin code honours,
 * spelled as Dovecot spells it, with Dovecot 2.3.19's default written as config text exactly as `doveconf -d`
 * prints it (a test checks each default against the real program), and a typed snapshot reader.
 *
 * Types: str; bool (yes/no); uint; oct (modes, 0600); size (bytes, `64 k`); time (seconds, `2 mins`); port; enum
 * (one of Dovecot's listed words, kept as text). Settings not listed in MDA_SETTINGS are still parsed, checked and
 * printed by doveconf (shared/config/dovecot/catalogue-data.ts holds all ~1,000); Postern just does not act on them.
 *
 * HONOURED OR IGNORED: MDA_SETTINGS holds only the top-level settings some code reads and acts on;
 * MDA_ACCEPTED_SETTINGS lists the ones an administrator may well set that Postern accepts and ignores, each with
 * one line on why (docs/parameters.md prints both). The split is recorded, not guessed:
 * test/mda/settings-honoured.test.ts runs the daemon, IMAP, POP3, LMTP, auth and doveadm with two read observers
 * (setSettingReadObserver below, on the objects readMdaSettings returns; setDovecotConfigReadObserver on direct
 * DovecotConfig reads) and fails when an MDA_SETTINGS or POSTERN_SETTINGS entry is never read, or when code
 * reads a Dovecot setting not declared in MDA_SETTINGS.
 *
 * This is the only place a setting and its default are declared. The per-protocol files (mda/pop3/settings.ts,
 * mda/imap/settings.ts, mda/deliver/settings.ts, mda/auth/settings.ts) are typed views of readMdaSettings()
 * under their `protocol X { }` filter, in the units their code wants; they declare no defaults of their own.
 *
 * POSTERN-ONLY SETTINGS (POSTERN_SETTINGS below): limits Dovecot compiles in (line lengths, bad-command counts,
 * idle timeouts, LMTP size and recipient limits) are parameters here, named `postern_*` so they can never clash
 * with a Dovecot name. dovecot.conf refuses unknown top-level names (as Dovecot does), so they are set in the
 * free-form `plugin { }` section, which real Dovecot ignores: the same dovecot.conf still runs under Dovecot.
 * They honour filters like any plugin setting (`protocol pop3 { plugin { postern_pop3_idle_timeout = 5 mins } }`).
 * Distrusts: `plugin { }` values (the parser does not type them): a bad postern_* value is a RangeError naming
 * the setting. Other values were checked by the parser against these types.
 */
import type { DovecotConfig, DovecotFilter, DovecotSection } from '../shared/config/dovecot/config.js';
import { parseBool, parseSize } from '../shared/config/dovecot/values.js';

export type SettingKind = 'str' | 'bool' | 'uint' | 'oct' | 'size' | 'time' | 'port' | 'enum';

export interface SettingDef {
  readonly type: SettingKind;
  /** Dovecot 2.3.19's default as `doveconf -d` prints it. */
  readonly default: string;
  /** For enums Postern's code branches on: the words Dovecot accepts. */
  readonly values?: readonly string[];
}

/** A setting Postern accepts and ignores (MDA_ACCEPTED_SETTINGS), with why, for the docs. */
export interface AcceptedSettingDef extends SettingDef {
  /** One line: why setting it has no effect. */
  readonly note: string;
}

/** Top-level settings the MDA honours: read by code that acts on them (test/mda/settings-honoured.test.ts checks). */
export const MDA_SETTINGS = {
  /** The only mail debug line so far: the IMAP warm-up's result (imap/warmup.ts), at start. */
  mail_debug: { type: "bool", default: "no" },
  protocols: { type: "str", default: "" },
  listen: { type: "str", default: "*, ::" },
  base_dir: { type: "str", default: "/run/dovecot" },
  login_greeting: { type: "str", default: "Dovecot (Debian) ready." },
  mail_location: { type: "str", default: "" },
  mail_home: { type: "str", default: "" },
  mail_uid: { type: "str", default: "" },
  mail_gid: { type: "str", default: "" },
  first_valid_uid: { type: "uint", default: "500" },
  last_valid_uid: { type: "uint", default: "0" },
  first_valid_gid: { type: "uint", default: "1" },
  last_valid_gid: { type: "uint", default: "0" },
  mail_plugins: { type: "str", default: "" },
  mail_max_userip_connections: { type: "uint", default: "10" },
  auth_mechanisms: { type: "str", default: "plain" },
  disable_plaintext_auth: { type: "bool", default: "yes" },
  auth_username_format: { type: "str", default: "%Lu" },
  auth_username_chars: { type: "str", default: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567890.-_@" },
  auth_default_realm: { type: "str", default: "" },
  auth_failure_delay: { type: "time", default: "2 secs" },
  auth_verbose: { type: "bool", default: "no" },
  ssl: { type: "enum", default: "yes", values: ["no", "yes", "required"] },
  ssl_cert: { type: "str", default: "" },
  ssl_key: { type: "str", default: "" },
  ssl_key_password: { type: "str", default: "" },
  ssl_min_protocol: { type: "str", default: "TLSv1.2" },
  ssl_cipher_list: { type: "str", default: "ALL:!kRSA:!SRP:!kDHd:!DSS:!aNULL:!eNULL:!EXPORT:!DES:!3DES:!MD5:!PSK:!RC4:!ADH:!LOW@STRENGTH" },
  ssl_prefer_server_ciphers: { type: "bool", default: "no" },
  imap_max_line_length: { type: "size", default: "64 k" },
  imap_idle_notify_interval: { type: "time", default: "2 mins" },
  mailbox_idle_check_interval: { type: "time", default: "30 secs" },
  imap_capability: { type: "str", default: "" },
  pop3_uidl_format: { type: "str", default: "%08Xu%08Xv" },
  pop3_no_flag_updates: { type: "bool", default: "no" },
  pop3_deleted_flag: { type: "str", default: "" },
  pop3_delete_type: { type: "enum", default: "default", values: ["default", "expunge", "flag"] },
  pop3_lock_session: { type: "bool", default: "no" },
  pop3_enable_last: { type: "bool", default: "no" },
  pop3_logout_format: { type: "str", default: "top=%t/%p, retr=%r/%b, del=%d/%m, size=%s" },
  lmtp_save_to_detail_mailbox: { type: "bool", default: "no" },
  lmtp_add_received_header: { type: "bool", default: "yes" },
  lmtp_hdr_delivery_address: { type: "enum", default: "final", values: ["final", "none", "original"] },
  recipient_delimiter: { type: "str", default: "+" },
  lda_mailbox_autocreate: { type: "bool", default: "no" },
  lda_mailbox_autosubscribe: { type: "bool", default: "no" },
  quota_full_tempfail: { type: "bool", default: "no" },
  hostname: { type: "str", default: "" },
  log_path: { type: "str", default: "syslog" },
  info_log_path: { type: "str", default: "" },
  debug_log_path: { type: "str", default: "" },
  log_timestamp: { type: "str", default: "%b %d %H:%M:%S " },
  default_internal_user: { type: "str", default: "dovecot" },
} as const satisfies Readonly<Record<string, SettingDef>>;

/**
 * ACCEPTED BUT IGNORED: Dovecot settings an administrator may well have set that Postern accepts (doveconf
 * prints them, dovecot.conf may set them) and does not read, each with one line on why setting it changes
 * nothing. They are kept out of MDA_SETTINGS, so readMdaSettings() does not even offer them: code that starts
 * acting on one must move it there first. Defaults are Dovecot 2.3.19's, like MDA_SETTINGS's. Any other name
 * of the catalogue is accepted and ignored the same way.
 */
export const MDA_ACCEPTED_SETTINGS = {
  state_dir: { type: "str", default: "/var/lib/dovecot", note: "Postern keeps no state files outside base_dir and the maildirs" },
  instance_name: { type: "str", default: "dovecot", note: "one Postern instance per configuration; the name is not used" },
  libexec_dir: { type: "str", default: "/usr/lib/dovecot", note: "Postern runs no helper programs" },
  login_trusted_networks: { type: "str", default: "", note: "forwarded client addresses (ID x-originating-ip, XCLIENT) are not accepted from any network" },
  mail_chroot: { type: "str", default: "", note: "chroot is not supported" },
  mail_privileged_group: { type: "str", default: "", note: "mbox spool locking is not implemented (Maildir only)" },
  mail_access_groups: { type: "str", default: "", note: "the daemon runs with mail_uid/mail_gid only; no supplementary groups are added" },
  mail_fsync: { type: "enum", default: "optimized", note: "mail files and their directories are always fsync'd before a save is acknowledged; never and always are not implemented" },
  mail_save_crlf: { type: "bool", default: "no", note: "messages are always saved with LF line ends (the default, no); yes is not implemented" },
  mail_temp_dir: { type: "str", default: "/tmp", note: "message bodies are not spooled to temporary files outside the maildir" },
  mail_max_keyword_length: { type: "uint", default: "50", note: "keyword length is not limited (Dovecot answers a longer one in STORE or APPEND with NO [CANNOT] Keyword length too long)" },
  mail_max_lock_timeout: { type: "time", default: "0", note: "lock waits use Postern's fixed timeouts (postern_pop3_lock_timeout for the POP3 session lock)" },
  mail_log_prefix: { type: "str", default: "%s(%u)<%{pid}><%{session}>: ", note: "mail process log lines have Dovecot's default prefix; the format is not configurable" },
  mail_server_comment: { type: "str", default: "", note: "METADATA (imap_metadata) is not implemented" },
  mail_server_admin: { type: "str", default: "", note: "METADATA (imap_metadata) is not implemented" },
  mail_attribute_dict: { type: "str", default: "", note: "METADATA (imap_metadata) is not implemented" },
  maildir_copy_with_hardlinks: { type: "bool", default: "yes", note: "COPY always hard-links when it can (the default, yes); no is not implemented" },
  maildir_very_dirty_syncs: { type: "bool", default: "no", note: "every sync stats new/, cur/ and the uidlist (the default, no); yes is not implemented" },
  maildir_stat_dirs: { type: "bool", default: "no", note: "only the default behaviour (no) is implemented" },
  maildir_broken_filename_sizes: { type: "bool", default: "no", note: "S= and W= sizes in file names are trusted (the default, no); yes is not implemented" },
  maildir_empty_new: { type: "bool", default: "no", note: "only the default behaviour (no) is implemented" },
  mailbox_list_index: { type: "bool", default: "yes", note: "Postern has no index files" },
  lock_method: { type: "enum", default: "fcntl", note: "Postern uses dotlocks and in-process locks; fcntl/flock are not used" },
  dotlock_use_excl: { type: "bool", default: "yes", note: "dotlocks are always created with O_EXCL (the default, yes)" },
  auth_username_translation: { type: "str", default: "", note: "not implemented" },
  auth_realms: { type: "str", default: "", note: "used only by DIGEST-MD5, which is not implemented" },
  auth_master_user_separator: { type: "str", default: "", note: "master users are not implemented" },
  auth_anonymous_username: { type: "str", default: "anonymous", note: "the ANONYMOUS mechanism is not implemented" },
  auth_verbose_passwords: { type: "enum", default: "no", note: "auth debug and password logging are not implemented (auth_verbose is)" },
  auth_debug: { type: "bool", default: "no", note: "auth debug and password logging are not implemented (auth_verbose is)" },
  auth_debug_passwords: { type: "bool", default: "no", note: "auth debug and password logging are not implemented (auth_verbose is)" },
  auth_cache_size: { type: "size", default: "0", note: "the auth cache is not implemented (passwd-file is re-read when it changes)" },
  auth_cache_ttl: { type: "time", default: "1 hours", note: "the auth cache is not implemented (passwd-file is re-read when it changes)" },
  auth_cache_negative_ttl: { type: "time", default: "1 hours", note: "the auth cache is not implemented (passwd-file is re-read when it changes)" },
  auth_worker_max_count: { type: "uint", default: "30", note: "one Node process: there are no auth worker processes" },
  auth_socket_path: { type: "str", default: "auth-userdb", note: "LMTP, IMAP, POP3 and doveadm look users up in-process, not through this socket" },
  auth_ssl_require_client_cert: { type: "bool", default: "no", note: "TLS client certificates are not requested or verified" },
  auth_ssl_username_from_cert: { type: "bool", default: "no", note: "TLS client certificates are not requested or verified" },
  ssl_ca: { type: "str", default: "", note: "TLS client certificates are not requested or verified" },
  ssl_dh: { type: "str", default: "", note: "Node's OpenSSL chooses the DH parameters" },
  ssl_alt_cert: { type: "str", default: "", note: "only one certificate (ssl_cert/ssl_key) is served" },
  ssl_alt_key: { type: "str", default: "", note: "only one certificate (ssl_cert/ssl_key) is served" },
  ssl_cipher_suites: { type: "str", default: "", note: "TLSv1.3 uses OpenSSL's default cipher suites (ssl_cipher_list applies to TLSv1.2 and older)" },
  ssl_curve_list: { type: "str", default: "", note: "TLS uses Node's OpenSSL defaults; curve choice is not configurable" },
  ssl_verify_client_cert: { type: "bool", default: "no", note: "TLS client certificates are not requested or verified" },
  ssl_require_crl: { type: "bool", default: "yes", note: "TLS client certificates are not requested or verified" },
  ssl_cert_username_field: { type: "str", default: "commonName", note: "TLS client certificates are not requested or verified" },
  ssl_options: { type: "str", default: "", note: "TLS uses Node's OpenSSL defaults; OpenSSL options are not configurable" },
  verbose_ssl: { type: "bool", default: "no", note: "TLS handshake details are not logged" },
  imap_client_workarounds: { type: "str", default: "", note: "IMAP client workarounds are not implemented" },
  imap_id_send: { type: "str", default: "name *", note: "ID always answers with Dovecot's default, name \"Dovecot\"" },
  imap_id_log: { type: "str", default: "", note: "client ID parameters are not logged" },
  imap_id_retain: { type: "bool", default: "no", note: "ID is not retained or forwarded (no proxying)" },
  imap_logout_format: { type: "str", default: "in=%i out=%o deleted=%{deleted} expunged=%{expunged} trashed=%{trashed} hdr_count=%{fetch_hdr_count} hdr_bytes=%{fetch_hdr_bytes} body_count=%{fetch_body_count} body_bytes=%{fetch_body_bytes}", note: "the IMAP logout log line has the default format; it is not configurable" },
  imap_metadata: { type: "bool", default: "no", note: "METADATA (RFC 5464) is not implemented" },
  imap_literal_minus: { type: "bool", default: "no", note: "LITERAL+ is always advertised (the default); LITERAL- is not" },
  imap_fetch_failure: { type: "enum", default: "disconnect-immediately", note: "not configurable; Postern's FETCH error handling is fixed" },
  imap_hibernate_timeout: { type: "time", default: "0", note: "IMAP hibernation is not implemented" },
  pop3_reuse_xuidl: { type: "bool", default: "no", note: "X-UIDL headers are not used for UIDLs" },
  pop3_save_uidl: { type: "bool", default: "no", note: "UIDLs are not saved to dovecot-uidlist (P fields already there are used)" },
  pop3_uidl_duplicates: { type: "enum", default: "allow", note: "duplicate UIDLs are left as they are (the default, allow); rename is not implemented" },
  pop3_client_workarounds: { type: "str", default: "", note: "POP3 client workarounds are not implemented" },
  pop3_fast_size_lookups: { type: "bool", default: "no", note: "sizes always come from the S=/W= file name fields, else the file" },
  lmtp_rcpt_check_quota: { type: "bool", default: "no", note: "quota is checked when the message is saved, not at RCPT TO" },
  lmtp_proxy: { type: "bool", default: "no", note: "LMTP proxying is not implemented" },
  lmtp_user_concurrency_limit: { type: "uint", default: "0", note: "concurrent deliveries per user are not limited" },
  lmtp_client_workarounds: { type: "str", default: "", note: "LMTP client workarounds are not implemented" },
  lmtp_verbose_replies: { type: "bool", default: "no", note: "LMTP replies always have the default form" },
  lda_original_recipient_header: { type: "str", default: "", note: "not implemented" },
  postmaster_address: { type: "str", default: "postmaster@%{if;%d;ne;;%d;%{hostname}}", note: "the MDA sends no mail itself (no Sieve, rejects or bounces)" },
  rejection_reason: { type: "str", default: "Your message to <%t> was automatically rejected:%n%r", note: "the MDA sends no mail itself (no Sieve, rejects or bounces)" },
  rejection_subject: { type: "str", default: "Rejected: %s", note: "the MDA sends no mail itself (no Sieve, rejects or bounces)" },
  sendmail_path: { type: "str", default: "/usr/sbin/sendmail", note: "the MDA sends no mail itself (no Sieve, rejects or bounces)" },
  submission_host: { type: "str", default: "", note: "the MDA sends no mail itself (no Sieve, rejects or bounces)" },
  syslog_facility: { type: "str", default: "mail", note: "Postern does not log to syslog: log_path = syslog writes to standard error" },
  login_log_format_elements: { type: "str", default: "user=<%u> method=%m rip=%r lip=%l mpid=%e %c session=<%{session}>", note: "log lines have Dovecot's default shapes; the formats are not configurable" },
  login_log_format: { type: "str", default: "%$: %s", note: "log lines have Dovecot's default shapes; the formats are not configurable" },
  deliver_log_format: { type: "str", default: "msgid=%m: %$", note: "log lines have Dovecot's default shapes; the formats are not configurable" },
  verbose_proctitle: { type: "bool", default: "no", note: "one Node process: process titles are not set" },
  shutdown_clients: { type: "bool", default: "yes", note: "stopping the daemon always ends IMAP and POP3 sessions (the default, yes)" },
  default_client_limit: { type: "uint", default: "1000", note: "one Node process: Dovecot's process and client limits do not apply" },
  default_process_limit: { type: "uint", default: "100", note: "one Node process: Dovecot's process and client limits do not apply" },
  default_idle_kill: { type: "time", default: "1 mins", note: "one Node process: Dovecot's process and client limits do not apply" },
  default_vsz_limit: { type: "size", default: "256 M", note: "one Node process: Dovecot's process and client limits do not apply" },
  default_internal_group: { type: "str", default: "dovecot", note: "one Node process: there are no internal or login processes to run as other users" },
  default_login_user: { type: "str", default: "dovenull", note: "one Node process: there are no internal or login processes to run as other users" },
  haproxy_trusted_networks: { type: "str", default: "", note: "the HAProxy PROXY protocol is not supported" },
  haproxy_timeout: { type: "time", default: "3 secs", note: "the HAProxy PROXY protocol is not supported" },
  import_environment: { type: "str", default: "TZ CORE_OUTOFMEM CORE_ERROR LISTEN_PID LISTEN_FDS NOTIFY_SOCKET", note: "the daemon keeps the environment it was started with" },
  doveadm_socket_path: { type: "str", default: "doveadm-server", note: "doveadm runs its commands in-process; there is no doveadm server" },
  doveadm_port: { type: "port", default: "0", note: "doveadm runs its commands in-process; there is no doveadm server" },
  doveadm_password: { type: "str", default: "", note: "doveadm runs its commands in-process; there is no doveadm server" },
  doveadm_allowed_commands: { type: "str", default: "", note: "doveadm runs its commands in-process; there is no doveadm server" },
  mail_cache_fields: { type: "str", default: "flags", note: "the fields Postern caches are fixed: ENVELOPE, BODYSTRUCTURE, BODY and the header fields of every message IMAP reads, kept in its index sidecar" },
  mail_never_cache_fields: { type: "str", default: "imap.envelope", note: "the fields Postern caches are fixed: ENVELOPE, BODYSTRUCTURE, BODY and the header fields of every message IMAP reads, kept in its index sidecar" },
  mail_always_cache_fields: { type: "str", default: "", note: "the fields Postern caches are fixed: ENVELOPE, BODYSTRUCTURE, BODY and the header fields of every message IMAP reads, kept in its index sidecar" },
} as const satisfies Readonly<Record<string, AcceptedSettingDef>>;

/**
 * POSTERN-ONLY: limits Dovecot hard-codes, with Dovecot's observed values as defaults (2.3.19). Set them in
 * `plugin { }` (see the header). Not printed by doveconf, not known to real Dovecot.
 */
export const POSTERN_SETTINGS = {
  /** auth: longest line on an auth socket (Dovecot: AUTH_CLIENT_MAX_LINE_LENGTH 16 k). */
  postern_auth_max_line_length: { type: "uint", default: "16384" },
  /** auth: unanswered requests one connection may have in flight. */
  postern_auth_max_pending_requests: { type: "uint", default: "100" },
  /** auth: refuse plaintext mechanisms without `secured` on the auth-client socket (Dovecot leaves this to login). */
  postern_auth_enforce_plaintext_policy: { type: "bool", default: "no" },
  /** imap: largest APPEND literal (Dovecot 2.3 has no limit but quota). */
  postern_imap_max_append_size: { type: "size", default: "64 M" },
  /** imap-login / imap: bad commands before `* BYE Too many invalid IMAP commands.` */
  postern_imap_max_bad_commands_prelogin: { type: "uint", default: "3" },
  postern_imap_max_bad_commands: { type: "uint", default: "20" },
  /** imap-login: time to log in (Dovecot: 1 min auth + 3 min idle); imap: client idle after login (30 min). */
  postern_imap_login_idle_timeout: { type: "time", default: "3 mins" },
  postern_imap_idle_timeout: { type: "time", default: "30 mins" },
  /** pop3-login: command line incl. CRLF, then `-ERR Input buffer full, aborting`; pop3: MAX_INBUF_SIZE. */
  postern_pop3_login_max_line_length: { type: "uint", default: "1031" },
  postern_pop3_max_line_length: { type: "uint", default: "2048" },
  /** pop3-login disconnects on the 3rd bad command in a row, pop3 after more than 20. */
  postern_pop3_login_max_bad_commands: { type: "uint", default: "3" },
  postern_pop3_max_bad_commands: { type: "uint", default: "20" },
  /** Idle: 3 minutes before login, 10 minutes after (CLIENT_IDLE_TIMEOUT_MSECS). */
  postern_pop3_login_idle_timeout: { type: "time", default: "3 mins" },
  postern_pop3_idle_timeout: { type: "time", default: "10 mins" },
  /** pop3_lock_session waits this long for the session lock (dotlock timeout). */
  postern_pop3_lock_timeout: { type: "time", default: "10 secs" },
  /**
   * Per-uid mail workers (root without mail_uid, mda/worker/pool.ts): a worker with no session or
   * delivery for this long is retired (Dovecot's idle_kill of mail processes, 1 min).
   */
  postern_mail_worker_idle_timeout: { type: "time", default: "1 min" },
  /**
   * Per-uid mail workers: once one is in use, this many more are kept started and unassigned, so a
   * uid whose worker was retired (or a new uid) gets one without waiting for Node to start (about
   * 0.4 s); each costs an idle Node process. Dovecot's `process_min_avail` for its mail processes.
   * Read at start.
   */
  postern_mail_worker_spares: { type: "uint", default: "1" },
  /**
   * Single-uid mode (mail_uid, or started as a normal user): logged-in IMAP and POP3 sessions are
   * spread over this many worker processes, a user always to the same one (main.ts workerRoute);
   * 1 serves them in the daemon's own process. Read at start. Dovecot runs a process per session.
   */
  postern_mail_processes: { type: "uint", default: "1" },
  /**
   * imap: how long a process that will serve IMAP sessions (the daemon's own, or each session
   * shard) runs a session of its own on a scratch maildir as it starts, so the JIT has compiled
   * the hot paths before the first client (imap/warmup.ts); 0 turns it off. Read at start.
   */
  postern_imap_warmup: { type: "time", default: "3 secs" },
  /** lmtp: message size, recipients per transaction, command line length, idle time, bad commands. */
  postern_lmtp_max_message_size: { type: "size", default: "100 M" },
  postern_lmtp_max_recipients: { type: "uint", default: "1000" },
  postern_lmtp_max_line_length: { type: "uint", default: "4096" },
  /** lmtp: a line longer than this is not even buffered (the connection is closed with 421). */
  postern_lmtp_hard_max_line_length: { type: "size", default: "64 k" },
  postern_lmtp_max_bad_commands: { type: "uint", default: "10" },
  postern_lmtp_idle_timeout: { type: "time", default: "5 mins" },
} as const satisfies Readonly<Record<string, SettingDef>>;

/** `namespace NAME { }` */
export const NAMESPACE_SETTINGS = {
  name: { type: "str", default: "" },
  type: { type: "enum", default: "private" },
  separator: { type: "str", default: "" },
  prefix: { type: "str", default: "" },
  location: { type: "str", default: "" },
  inbox: { type: "bool", default: "no" },
  hidden: { type: "bool", default: "no" },
  list: { type: "enum", default: "yes" },
  subscriptions: { type: "bool", default: "yes" },
  ignore_on_failure: { type: "bool", default: "no" },
  disabled: { type: "bool", default: "no" },
  order: { type: "uint", default: "0" },
} as const satisfies Readonly<Record<string, SettingDef>>;

/** `mailbox NAME { }` inside a namespace. */
export const MAILBOX_SETTINGS = {
  name: { type: "str", default: "" },
  auto: { type: "enum", default: "no", values: ["no", "create", "subscribe"] },
  special_use: { type: "str", default: "" },
  driver: { type: "str", default: "" },
  comment: { type: "str", default: "" },
  autoexpunge: { type: "time", default: "0" },
  autoexpunge_max_mails: { type: "uint", default: "0" },
} as const satisfies Readonly<Record<string, SettingDef>>;

/** `passdb { }` (2.3: unnamed, repeatable, tried in order; `passdb NAME { }` sets `name`). */
export const PASSDB_SETTINGS = {
  name: { type: "str", default: "" },
  driver: { type: "str", default: "" },
  args: { type: "str", default: "" },
  default_fields: { type: "str", default: "" },
  override_fields: { type: "str", default: "" },
  mechanisms: { type: "str", default: "" },
  username_filter: { type: "str", default: "" },
  skip: { type: "enum", default: "never" },
  result_success: { type: "enum", default: "return-ok" },
  result_failure: { type: "enum", default: "continue" },
  result_internalfail: { type: "enum", default: "continue" },
  deny: { type: "bool", default: "no" },
  pass: { type: "bool", default: "no" },
  master: { type: "bool", default: "no" },
  auth_verbose: { type: "enum", default: "default" },
} as const satisfies Readonly<Record<string, SettingDef>>;

/** `userdb { }` */
export const USERDB_SETTINGS = {
  name: { type: "str", default: "" },
  driver: { type: "str", default: "" },
  args: { type: "str", default: "" },
  default_fields: { type: "str", default: "" },
  override_fields: { type: "str", default: "" },
  skip: { type: "enum", default: "never" },
  result_success: { type: "enum", default: "return-ok" },
  result_failure: { type: "enum", default: "continue" },
  result_internalfail: { type: "enum", default: "continue" },
  auth_verbose: { type: "enum", default: "default" },
} as const satisfies Readonly<Record<string, SettingDef>>;

/** `service NAME { }`; built-in services carry their own defaults (doveconf -d shows them). */
export const SERVICE_SETTINGS = {
  name: { type: "str", default: "" },
  protocol: { type: "str", default: "" },
  type: { type: "str", default: "" },
  executable: { type: "str", default: "" },
  user: { type: "str", default: "" },
  group: { type: "str", default: "" },
  privileged_group: { type: "str", default: "" },
  extra_groups: { type: "str", default: "" },
  chroot: { type: "str", default: "" },
  drop_priv_before_exec: { type: "bool", default: "no" },
  process_min_avail: { type: "uint", default: "0" },
  process_limit: { type: "uint", default: "0" },
  client_limit: { type: "uint", default: "0" },
  service_count: { type: "uint", default: "0" },
  idle_kill: { type: "time", default: "0" },
  vsz_limit: { type: "size", default: "18446744073709551615 B" },
} as const satisfies Readonly<Record<string, SettingDef>>;

/** `unix_listener PATH { }` (a relative path is under base_dir). */
export const UNIX_LISTENER_SETTINGS = {
  path: { type: "str", default: "" },
  mode: { type: "oct", default: "0600" },
  user: { type: "str", default: "" },
  group: { type: "str", default: "" },
} as const satisfies Readonly<Record<string, SettingDef>>;

/** `fifo_listener PATH { }` */
export const FIFO_LISTENER_SETTINGS = {
  path: { type: "str", default: "" },
  mode: { type: "oct", default: "0600" },
  user: { type: "str", default: "" },
  group: { type: "str", default: "" },
} as const satisfies Readonly<Record<string, SettingDef>>;

/** `inet_listener NAME { }` */
export const INET_LISTENER_SETTINGS = {
  name: { type: "str", default: "" },
  address: { type: "str", default: "" },
  port: { type: "port", default: "0" },
  ssl: { type: "bool", default: "no" },
  reuse_port: { type: "bool", default: "no" },
  haproxy: { type: "bool", default: "no" },
} as const satisfies Readonly<Record<string, SettingDef>>;

/** quota plugin keys read from `plugin { }` (free-form in Dovecot, so no defaults: absent means unset). */
export const QUOTA_PLUGIN_SETTINGS = [
  'quota', 'quota2', 'quota_rule', 'quota_rule2', 'quota_rule3', 'quota_grace', 'quota_warning', 'quota_warning2',
  'quota_exceeded_message', 'quota_max_mail_size', 'quota_status_success', 'quota_status_nouser', 'quota_status_overquota',
  'quota_status_toolarge', 'quota_vsizes',
] as const;

type ValueOf<K extends SettingKind> = K extends 'bool' ? boolean : K extends 'uint' | 'oct' | 'time' | 'port' | 'size' ? number : string;

/** The typed values of a table: `{ mail_debug: boolean, auth_failure_delay: number (secs), … }`. */
export type Typed<T extends Readonly<Record<string, SettingDef>>> = { readonly [N in keyof T]: ValueOf<T[N]['type']> };

export interface MdaMailbox extends Typed<typeof MAILBOX_SETTINGS> {}
export interface MdaNamespace extends Typed<typeof NAMESPACE_SETTINGS> {
  readonly mailboxes: readonly MdaMailbox[];
}
export interface MdaPassdb extends Typed<typeof PASSDB_SETTINGS> {}
export interface MdaUserdb extends Typed<typeof USERDB_SETTINGS> {}
export interface MdaUnixListener extends Typed<typeof UNIX_LISTENER_SETTINGS> {}
export interface MdaFifoListener extends Typed<typeof FIFO_LISTENER_SETTINGS> {}
export interface MdaInetListener extends Typed<typeof INET_LISTENER_SETTINGS> {}
export interface MdaService extends Typed<typeof SERVICE_SETTINGS> {
  readonly unix_listeners: readonly MdaUnixListener[];
  readonly fifo_listeners: readonly MdaFifoListener[];
  readonly inet_listeners: readonly MdaInetListener[];
}

/** Every top-level value: Dovecot's settings and the Postern-only limits. */
export type MdaValues = Typed<typeof MDA_SETTINGS> & Typed<typeof POSTERN_SETTINGS>;
export type MdaSettingName = keyof typeof MDA_SETTINGS | keyof typeof POSTERN_SETTINGS;

export type MdaSettings = MdaValues & {
  readonly namespaces: readonly MdaNamespace[];
  readonly passdbs: readonly MdaPassdb[];
  readonly userdbs: readonly MdaUserdb[];
  readonly services: readonly MdaService[];
  /** plugin { } as written (quota settings among them: QUOTA_PLUGIN_SETTINGS). */
  readonly plugin: ReadonlyMap<string, string>;
};

const TIME_UNITS: ReadonlyArray<readonly [RegExp, number]> = [
  [/^(ms|msecs?|milliseconds?)$/i, 0.001], [/^(s|secs?|seconds?)$/i, 1], [/^(m|mins?|minutes?)$/i, 60],
  [/^(h|hours?)$/i, 3600], [/^(d|days?)$/i, 86400], [/^(w|weeks?)$/i, 604800],
];

/** A time in seconds, milliseconds kept as fractions (`200 msecs` → 0.2); a bare number only for 0. */
function exactSeconds(text: string): number | undefined {
  const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(text);
  if (m === null) return undefined;
  const n = Number(m[1]);
  if (m[2] === '') return n === 0 ? 0 : undefined;
  for (const [re, mul] of TIME_UNITS) if (re.test(m[2]!)) return n * mul;
  return undefined;
}

/** Milliseconds of a time value read from the table (seconds). */
export function millis(seconds: number): number {
  return Math.round(seconds * 1000);
}

/** Converts doveconf-style text to the table's type (sizes beyond 2^53 become Infinity: "unlimited"). */
export function settingValue(kind: SettingKind, text: string): string | number | boolean {
  switch (kind) {
    case 'bool': return parseBool(text) ?? false;
    case 'uint': case 'port': return Number(text);
    case 'oct': return Number.parseInt(text, 8);
    case 'time': return exactSeconds(text) ?? 0;
    case 'size': {
      const n = parseSize(text) ?? 0n;
      return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(n);
    }
    default: return text;
  }
}

/** Like settingValue, but a value that does not fit the type is a RangeError naming the setting. */
export function strictSettingValue(name: string, def: SettingDef, text: string): string | number | boolean {
  const t = text.trim();
  const bad = (what: string): never => {
    throw new RangeError(`${name}: invalid ${what}: ${text}`);
  };
  switch (def.type) {
    case 'bool': return parseBool(t) ?? bad('boolean value');
    case 'uint': case 'port': return /^\d+$/.test(t) ? Number(t) : bad('number');
    case 'oct': return /^0?[0-7]+$/.test(t) ? Number.parseInt(t, 8) : bad('number');
    case 'time': return exactSeconds(t) ?? bad('time value');
    case 'size': {
      const n = parseSize(t);
      if (n === undefined) return bad('size value');
      return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(n);
    }
    case 'enum': return def.values === undefined || def.values.includes(t) ? t : bad('value');
    default: return text;
  }
}

const TOP: Readonly<Record<string, SettingDef>> = { ...MDA_SETTINGS, ...POSTERN_SETTINGS };

/**
 * True when the MDA acts on this top-level Dovecot setting (MDA_SETTINGS; recorded by
 * test/mda/settings-honoured.test.ts); false for MDA_ACCEPTED_SETTINGS and the rest of the catalogue.
 */
export function isHonouredSetting(name: string): boolean {
  return Object.hasOwn(MDA_SETTINGS, name);
}

/** The default of a top-level or Postern-only setting, as config text. */
export function settingDefault(name: MdaSettingName): string {
  return TOP[name]!.default;
}

/** Defaults as config text for a list of names (for views that publish theirs). */
export function settingDefaults<K extends MdaSettingName>(names: readonly K[]): Readonly<Record<K, string>> {
  return Object.fromEntries(names.map((n) => [n, settingDefault(n)])) as Record<K, string>;
}

/**
 * Every top-level value from config text (tests, tools): given names are checked strictly, the rest take
 * their defaults. An unknown name is an error, so a misspelt override cannot pass silently.
 */
export function mdaValuesFromText(values: Readonly<Partial<Record<string, string>>> = {}): MdaValues {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(values)) if (TOP[name] === undefined) throw new RangeError(`Unknown setting: ${name}`);
  for (const [name, def] of Object.entries(TOP)) {
    const v = values[name];
    out[name] = v === undefined ? settingValue(def.type, def.default) : strictSettingValue(name, def, v);
  }
  return out as MdaValues;
}

function posternValues(plugin: ReadonlyMap<string, string>): Typed<typeof POSTERN_SETTINGS> {
  const out: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(POSTERN_SETTINGS)) {
    const v = plugin.get(name);
    out[name] = v === undefined ? settingValue(def.type, def.default) : strictSettingValue(name, def, v);
  }
  return out as Typed<typeof POSTERN_SETTINGS>;
}

function typed<T extends Readonly<Record<string, SettingDef>>>(table: T, get: (key: string) => string): Typed<T> {
  const out: Record<string, unknown> = {};
  for (const [k, d] of Object.entries(table)) out[k] = settingValue(d.type, get(k));
  return out as Typed<T>;
}

function fromSection<T extends Readonly<Record<string, SettingDef>>>(table: T, s: DovecotSection): Typed<T> {
  return typed(table, (k) => s.get(k));
}

/** Called with the name of every top-level setting read from a settings object readMdaSettings returned. */
export type SettingReadObserver = (name: string) => void;

/** Reported (instead of a name) when a settings object is enumerated or spread: its reads can no longer be told apart. */
export const SETTINGS_ENUMERATED = '*enumerated*';

let settingObserver: SettingReadObserver | undefined;

/**
 * Observes the settings objects readMdaSettings returns from now on: each read of a top-level property
 * (`s.mail_location`) is reported by name, whenever it happens (test/mda/settings-honoured.test.ts lists what
 * the daemon reads). readMdaSettings reads every setting up front, so reads of the config say nothing; reads of
 * the returned object do. When nobody observes, the object is a plain one, exactly as without the hook. Returns
 * the previous observer, to restore it; pass undefined to stop.
 */
export function setSettingReadObserver(observer: SettingReadObserver | undefined): SettingReadObserver | undefined {
  const previous = settingObserver;
  settingObserver = observer;
  return previous;
}

function observed<T extends object>(obj: T, observe: SettingReadObserver): T {
  return new Proxy(obj, {
    get(target, key, receiver) {
      if (typeof key === 'string' && Object.hasOwn(TOP, key)) observe(key);
      return Reflect.get(target, key, receiver) as unknown;
    },
    ownKeys(target) {
      observe(SETTINGS_ENUMERATED);
      return Reflect.ownKeys(target);
    },
  });
}

/** Reads every MDA setting for a process with the given connection facts (protocol, IPs, local name). */
export function readMdaSettings(cfg: DovecotConfig, filter?: DovecotFilter): MdaSettings {
  const s = settingsOf(cfg, filter);
  return settingObserver === undefined ? s : observed(s, settingObserver);
}

function settingsOf(cfg: DovecotConfig, filter?: DovecotFilter): MdaSettings {
  const view = cfg.view(filter);
  const plugin = cfg.plugin(filter);
  return {
    ...typed(MDA_SETTINGS, (k) => view.get(k)),
    ...posternValues(plugin),
    namespaces: cfg.namespaces(filter).map((n) => ({
      ...fromSection(NAMESPACE_SETTINGS, n),
      mailboxes: n.sections('mailbox').map((m) => fromSection(MAILBOX_SETTINGS, m)),
    })),
    passdbs: cfg.passdbs(filter).map((p) => fromSection(PASSDB_SETTINGS, p)),
    userdbs: cfg.userdbs(filter).map((u) => fromSection(USERDB_SETTINGS, u)),
    services: cfg.services().map((s) => ({
      ...fromSection(SERVICE_SETTINGS, s),
      unix_listeners: s.sections('unix_listener').map((l) => fromSection(UNIX_LISTENER_SETTINGS, l)),
      fifo_listeners: s.sections('fifo_listener').map((l) => fromSection(FIFO_LISTENER_SETTINGS, l)),
      inet_listeners: s.sections('inet_listener').map((l) => fromSection(INET_LISTENER_SETTINGS, l)),
    })),
    plugin,
  };
}

export interface InetListener {
  /** `inet_listener` name: imap, imaps, pop3, pop3s, lmtp. */
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** Implicit TLS (`ssl = yes` in the listener). */
  readonly ssl: boolean;
}

/**
 * The TCP listeners of a service: each inet_listener with a port other than 0, on its `address` or, when
 * empty, on every address of `listen` (`*, ::` by default), one entry per address.
 */
export function serviceInetListeners(s: MdaSettings, service: string): InetListener[] {
  const svc = s.services.find((x) => x.name === service);
  const out: InetListener[] = [];
  for (const l of svc?.inet_listeners ?? []) {
    if (!Number.isInteger(l.port) || l.port <= 0) continue;
    const addrText = l.address !== '' ? l.address : s.listen;
    for (const raw of addrText.split(/[\s,]+/).filter((a) => a !== '')) {
      const address = raw === '*' ? '0.0.0.0' : raw === '[::]' ? '::' : raw.replace(/^\[(.*)\]$/, '$1');
      out.push({ name: l.name, address, port: l.port, ssl: l.ssl });
    }
  }
  return out;
}

/**
 * The namespace holding INBOX (`inbox = yes`; Dovecot's implicit default namespace when none is configured
 * has no mailbox blocks), whose `mailbox { special_use auto }` blocks IMAP and the store use.
 */
export function inboxNamespace(s: MdaSettings): MdaNamespace | undefined {
  return s.namespaces.find((n) => n.inbox) ?? s.namespaces.find((n) => n.prefix === '');
}

