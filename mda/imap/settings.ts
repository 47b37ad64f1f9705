/*
 * The IMAP server's parameters, spelled as Dovecot 2.3 spells them, defaults written as config text
 * (`doveconf -d`), plus the listeners of `service imap-login { inet_listener imap/imaps }` and the
 * namespace's `mailbox { special_use auto }` blocks. main.ts builds this from dovecot.conf with
 * imapSettingsFromConfig(); tests build it with imapSettingsFromText().
 *
 * Postern extensions (no Dovecot counterpart, named so they cannot clash): the APPEND literal limit
 * and the bad-command limits Dovecot hard-codes (imap-login: 3, imap: 20).
 */
import type { DovecotConfig } from '../../shared/config/dovecot/config.js';
import type { SpecialUse } from '../storage/api.js';

export interface AutoMailbox {
  readonly name: string;
  readonly specialUse: SpecialUse | undefined;
  readonly auto: 'no' | 'create' | 'subscribe';
}

export interface ImapListener {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** Implicit TLS (imaps). */
  readonly ssl: boolean;
}

export interface ImapSettings {
  login_greeting: string;
  /** Bytes of one command line outside literals (imap_max_line_length = 64 k). */
  imap_max_line_length: number;
  /** ms between `* OK Still here` in IDLE. */
  imap_idle_notify_interval: number;
  disable_plaintext_auth: boolean;
  ssl: 'no' | 'yes' | 'required';
  /** 0 = unlimited. */
  mail_max_userip_connections: number;
  /** ms; login processes wait this long for a client to log in (Dovecot: 1 min auth + 3 min idle). */
  login_timeout: number;
  /** ms of client inactivity after login before disconnecting (Dovecot: 30 mins, hard-coded). */
  imap_client_idle_timeout: number;
  /** Postern: largest APPEND literal in bytes (Dovecot 2.3 has no limit but quota). */
  postern_imap_max_append_size: number;
  /** Postern: bad commands before `* BYE Too many invalid IMAP commands.` (pre-login, post-login). */
  postern_imap_max_bad_commands_prelogin: number;
  postern_imap_max_bad_commands: number;
  /** Namespace mailboxes with special_use / auto. */
  mailboxes: AutoMailbox[];
}

export const IMAP_SETTING_DEFAULTS: Readonly<Record<Exclude<keyof ImapSettings, 'mailboxes'>, string>> = {
  login_greeting: 'Dovecot ready.',
  imap_max_line_length: '64 k',
  imap_idle_notify_interval: '2 mins',
  disable_plaintext_auth: 'yes',
  ssl: 'yes',
  mail_max_userip_connections: '10',
  login_timeout: '3 mins',
  imap_client_idle_timeout: '30 mins',
  postern_imap_max_append_size: '64 M',
  postern_imap_max_bad_commands_prelogin: '3',
  postern_imap_max_bad_commands: '20',
};

const TIME: [RegExp, number][] = [
  [/^(ms|msecs?|milliseconds?)$/i, 1], [/^(s|secs?|seconds?|)$/i, 1000], [/^(m|mins?|minutes?)$/i, 60_000],
  [/^(h|hours?)$/i, 3_600_000], [/^(d|days?)$/i, 86_400_000],
];

export function timeMs(v: string, key: string): number {
  const m = /^\s*([0-9]+)\s*([a-z]*)\s*$/i.exec(v);
  if (m) for (const [re, mul] of TIME) if (re.test(m[2]!)) return Number(m[1]) * mul;
  throw new RangeError(`${key}: invalid time value: ${v}`);
}

export function sizeBytes(v: string, key: string): number {
  const m = /^\s*([0-9]+)\s*([bkmgt]?)\s*$/i.exec(v);
  if (!m) throw new RangeError(`${key}: invalid size value: ${v}`);
  const mul = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase()]!;
  return Number(m[1]) * mul;
}

function bool(v: string, key: string): boolean {
  const t = v.trim().toLowerCase();
  if (t === 'yes') return true;
  if (t === 'no') return false;
  throw new RangeError(`${key}: invalid boolean value: ${v}`);
}

function uint(v: string, key: string): number {
  if (!/^\s*[0-9]+\s*$/.test(v)) throw new RangeError(`${key}: invalid number: ${v}`);
  return Number(v);
}

/** Settings from config-text values; missing keys take their defaults. */
export function imapSettingsFromText(
  values: Partial<Record<Exclude<keyof ImapSettings, 'mailboxes'>, string>> = {},
  mailboxes: AutoMailbox[] = [],
): ImapSettings {
  const v = (k: Exclude<keyof ImapSettings, 'mailboxes'>): string => values[k] ?? IMAP_SETTING_DEFAULTS[k];
  const ssl = v('ssl').trim();
  if (ssl !== 'no' && ssl !== 'yes' && ssl !== 'required') throw new RangeError(`ssl: invalid value: ${ssl}`);
  return {
    login_greeting: v('login_greeting'),
    imap_max_line_length: sizeBytes(v('imap_max_line_length'), 'imap_max_line_length'),
    imap_idle_notify_interval: timeMs(v('imap_idle_notify_interval'), 'imap_idle_notify_interval'),
    disable_plaintext_auth: bool(v('disable_plaintext_auth'), 'disable_plaintext_auth'),
    ssl,
    mail_max_userip_connections: uint(v('mail_max_userip_connections'), 'mail_max_userip_connections'),
    login_timeout: timeMs(v('login_timeout'), 'login_timeout'),
    imap_client_idle_timeout: timeMs(v('imap_client_idle_timeout'), 'imap_client_idle_timeout'),
    postern_imap_max_append_size: sizeBytes(v('postern_imap_max_append_size'), 'postern_imap_max_append_size'),
    postern_imap_max_bad_commands_prelogin: uint(v('postern_imap_max_bad_commands_prelogin'), 'postern_imap_max_bad_commands_prelogin'),
    postern_imap_max_bad_commands: uint(v('postern_imap_max_bad_commands'), 'postern_imap_max_bad_commands'),
    mailboxes,
  };
}

const SPECIAL: readonly string[] = ['\\All', '\\Archive', '\\Drafts', '\\Flagged', '\\Junk', '\\Sent', '\\Trash'];

/** Reads the imap-relevant settings (filter `protocol imap`) and the inbox namespace's mailboxes. */
export function imapSettingsFromConfig(cfg: DovecotConfig): ImapSettings {
  const f = { protocol: 'imap' };
  const g = (k: string) => cfg.get(k, f);
  const mailboxes: AutoMailbox[] = [];
  for (const ns of cfg.namespaces(f)) {
    for (const mb of ns.sections('mailbox')) {
      const su = mb.get('special_use').split(/\s+/).find((s) => SPECIAL.some((x) => x.toLowerCase() === s.toLowerCase()));
      const auto = mb.get('auto');
      mailboxes.push({
        name: mb.get('name') || mb.name,
        specialUse: su === undefined ? undefined : (SPECIAL.find((x) => x.toLowerCase() === su.toLowerCase()) as SpecialUse),
        auto: auto === 'create' || auto === 'subscribe' ? auto : 'no',
      });
    }
  }
  return imapSettingsFromText(
    {
      login_greeting: g('login_greeting'),
      imap_max_line_length: g('imap_max_line_length'),
      imap_idle_notify_interval: g('imap_idle_notify_interval'),
      disable_plaintext_auth: g('disable_plaintext_auth'),
      ssl: g('ssl'),
      mail_max_userip_connections: g('mail_max_userip_connections'),
    },
    mailboxes,
  );
}

/** `service imap-login { inet_listener imap { port = 143 } inet_listener imaps { port = 993; ssl = yes } }`. */
export function imapListenersFromConfig(cfg: DovecotConfig): ImapListener[] {
  const svc = cfg.service('imap-login');
  if (svc === undefined) return [];
  const listen = cfg.get('listen');
  const out: ImapListener[] = [];
  for (const l of svc.sections('inet_listener')) {
    const port = Number(l.get('port'));
    if (!Number.isInteger(port) || port <= 0) continue;
    const addr = l.get('address') || listen;
    for (const a of addr.split(/[\s,]+/).filter((x) => x !== '')) {
      out.push({ name: l.name, address: a === '*' ? '0.0.0.0' : a === '::' || a === '[::]' ? '::' : a, port, ssl: l.get('ssl') === 'yes' });
    }
  }
  return out;
}
