/*
 * The shape of a Dovecot 2.3 configuration, built from the generated catalogue: which keys exist where, their
 * types and defaults, which sections are lists, and how list elements are named in setting paths.
 *
 * Paths are Dovecot's export paths (`doveconf -S`): `mail_location`, `passdb/0/driver`,
 * `namespace/inbox/mailbox/Sent\_Messages/special_use`, `service/auth/unix_listener/auth-userdb/mode`,
 * `plugin/quota`. Element ids of named lists are the name escaped as Dovecot's settings_section_escape() does;
 * passdb/userdb elements (and unnamed elements of named lists) use their index.
 */
import { BUILTIN_SERVICES, GLOBAL_SETTINGS, SECTION_TEMPLATES, SETTING_TYPES } from './catalogue-data.js';
import type { SettingType } from './values.js';

/** Section kinds that are lists of elements. */
export type ListKind = 'passdb' | 'userdb' | 'namespace' | 'mailbox' | 'service' | 'unix_listener' | 'fifo_listener' | 'inet_listener';
/** Free-form `key = value` sections. */
export type StrListKind = 'plugin' | 'dict';

export const LIST_KINDS: ReadonlySet<string> = new Set<ListKind>([
  'passdb', 'userdb', 'namespace', 'mailbox', 'service', 'unix_listener', 'fifo_listener', 'inet_listener',
]);
export const STRLIST_KINDS: ReadonlySet<string> = new Set<StrListKind>(['plugin', 'dict']);

/** Lists whose elements are identified by name (Dovecot's SET_DEFLIST_UNIQUE). passdb/userdb are indexed. */
export function isUniqueList(kind: string): boolean {
  return kind !== 'passdb' && kind !== 'userdb';
}

/** The setting that holds an element's name (`name`, or `path` for unix/fifo listeners). */
export function idKey(kind: string): string {
  return kind === 'unix_listener' || kind === 'fifo_listener' ? 'path' : 'name';
}

/** Which list sections may appear inside which (root = top level or a filter). */
export const CHILD_LISTS: Readonly<Record<string, readonly string[]>> = {
  root: ['passdb', 'userdb', 'namespace', 'service', 'plugin', 'dict'],
  namespace: ['mailbox'],
  service: ['unix_listener', 'fifo_listener', 'inet_listener'],
};

/** Escapes a section name for use as a path element, as settings_section_escape() does. */
export function escapeSectionName(name: string): string {
  let out = '';
  for (const c of name) {
    switch (c) {
      case '=': out += '\\e'; break;
      case '/': out += '\\s'; break;
      case '\\': out += '\\\\'; break;
      case ' ': out += '\\_'; break;
      case ',': out += '\\+'; break;
      default: out += c;
    }
  }
  return out;
}

export function unescapeSectionName(id: string): string {
  return id.replace(/\\(.)/g, (_m, c: string) => ({ e: '=', s: '/', _: ' ', '+': ',', '\\': '\\' } as Record<string, string>)[c] ?? c);
}

const GLOBAL_DEFAULTS = new Map<string, string>(GLOBAL_SETTINGS.filter(([k]) => !LIST_KINDS.has(k) && !STRLIST_KINDS.has(k)));

/** Top-level keys in Dovecot's definition order (lists included). */
export const GLOBAL_ORDER: readonly string[] = GLOBAL_SETTINGS.map(([k]) => k);

/** Keys of a list element kind in definition order (child lists included). */
export function templateKeys(kind: string): readonly string[] {
  return (SECTION_TEMPLATES[kind] ?? []).map(([k]) => k);
}

const TEMPLATE_DEFAULTS = new Map<string, Map<string, string>>(
  Object.entries(SECTION_TEMPLATES).map(([kind, rows]) => [kind, new Map(rows.filter(([k]) => !LIST_KINDS.has(k)))]),
);

/** The default of `key` in a freshly created section of `kind` (built-in service values not considered). */
export function templateDefault(kind: string, key: string): string {
  return TEMPLATE_DEFAULTS.get(kind)?.get(key) ?? '';
}

/** Built-in service defaults (path → value) and their lists (list path → ids). */
export const BUILTIN_DEFAULTS = new Map<string, string>();
export const BUILTIN_LISTS = new Map<string, string[]>();
BUILTIN_LISTS.set('service', BUILTIN_SERVICES.map((s) => s.name));
for (const s of BUILTIN_SERVICES) {
  for (const [k, v] of s.lines) {
    const path = `service/${s.name}/${k}`;
    const last = k.slice(k.lastIndexOf('/') + 1);
    if (LIST_KINDS.has(last)) BUILTIN_LISTS.set(path, v === '' ? [] : v.split(' '));
    else BUILTIN_DEFAULTS.set(path, v);
  }
}

export function isGlobalSetting(key: string): boolean {
  return GLOBAL_DEFAULTS.has(key);
}

export function isSectionSetting(kind: string, key: string): boolean {
  return TEMPLATE_DEFAULTS.get(kind)?.has(key) ?? false;
}

/** A parsed setting path: the element kind holding the key (or 'global'/strlist kind) and the key. */
export interface PathInfo {
  readonly kind: string;
  readonly key: string;
}

/** Splits an export path into the kind of section that holds the setting and the setting's own key. */
export function pathInfo(path: string): PathInfo {
  const parts = path.split('/');
  if (parts.length === 1) return { kind: 'global', key: path };
  if (STRLIST_KINDS.has(parts[parts.length - 2] ?? '') && parts.length % 2 === 0) {
    return { kind: parts[parts.length - 2] ?? '', key: parts[parts.length - 1] ?? '' };
  }
  return { kind: parts[parts.length - 3] ?? 'global', key: parts[parts.length - 1] ?? '' };
}

export function typeOf(path: string): SettingType {
  const { kind, key } = pathInfo(path);
  return (SETTING_TYPES[kind]?.[key] ?? 'str') as SettingType;
}

/** The default of a setting path: built-in service values first, then the section template or global default. */
export function defaultOf(path: string): string {
  const b = BUILTIN_DEFAULTS.get(path);
  if (b !== undefined) return b;
  const { kind, key } = pathInfo(path);
  if (kind === 'global') return GLOBAL_DEFAULTS.get(key) ?? '';
  return TEMPLATE_DEFAULTS.get(kind)?.get(key) ?? '';
}

/** True when every list element along `path` is one Dovecot defines by default (a built-in service or listener). */
export function inBuiltinElements(path: string): boolean {
  const parts = path.split('/');
  for (let i = 0; i + 2 < parts.length; i += 2) {
    const listPath = parts.slice(0, i + 1).join('/');
    if (!(BUILTIN_LISTS.get(listPath) ?? []).includes(parts[i + 1] ?? '')) return false;
  }
  return true;
}

/**
 * Settings of Dovecot's auth module, which `local`/`remote` filters may not hold ("Auth settings not supported
 * inside local/remote blocks"); found by probing the real doveconf with each top-level setting.
 */
export const AUTH_MODULE_SETTINGS: ReadonlySet<string> = new Set([
  'base_dir', 'verbose_proctitle', 'ssl_client_ca_file', 'ssl_client_ca_dir', 'auth_mechanisms', 'auth_realms',
  'auth_default_realm', 'auth_cache_size', 'auth_cache_ttl', 'auth_cache_negative_ttl',
  'auth_cache_verify_password_with_worker', 'auth_username_chars', 'auth_username_translation',
  'auth_username_format', 'auth_master_user_separator', 'auth_anonymous_username', 'auth_krb5_keytab',
  'auth_gssapi_hostname', 'auth_winbind_helper_path', 'auth_proxy_self', 'auth_failure_delay',
  'auth_policy_server_url', 'auth_policy_server_api_header', 'auth_policy_server_timeout_msecs',
  'auth_policy_hash_mech', 'auth_policy_hash_nonce', 'auth_policy_request_attributes', 'auth_policy_reject_on_fail',
  'auth_policy_check_before_auth', 'auth_policy_check_after_auth', 'auth_policy_report_after_auth',
  'auth_policy_log_only', 'auth_policy_hash_truncate', 'auth_stats', 'auth_verbose', 'auth_debug',
  'auth_debug_passwords', 'auth_verbose_passwords', 'auth_ssl_require_client_cert', 'auth_ssl_username_from_cert',
  'auth_use_winbind', 'auth_worker_max_count', 'first_valid_uid', 'last_valid_uid', 'first_valid_gid',
  'last_valid_gid', 'passdb', 'userdb',
]);
