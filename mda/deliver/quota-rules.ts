/*
 * Dovecot 2.3 quota configuration (quota plugin, quota.c quota_root_add_rule): which backend
 * (`plugin { quota = maildir:User quota }` or `count:…`; enabled only when `quota` is in
 * mail_plugins) and the limits from `quota_rule`, `quota_rule2`…, where a userdb field of the
 * same name overrides the plugin setting. Rule syntax: `<mailbox>:storage=<n>[bkMGT%]` (a bare
 * number is KiB), `bytes=<n>` (a bare number is bytes), `messages=<n>`, `ignore`; a leading `+`
 * adds to the `*` rule. Pure; distrusts the text (unparsable rules are reported, not guessed).
 */
import type { KeyValueFields } from '../../shared/proto/tab-escape.js';
import type { QuotaLimits, QuotaRoot } from '../storage/api.js';

export type { QuotaLimits };

export interface QuotaConfig {
  readonly backend: 'maildir' | 'count';
  readonly name: string;
  /** The `*` rule. */
  readonly root: QuotaLimits;
  /** Mailbox-specific rules (`Trash:storage=+100M`). */
  readonly mailboxes: ReadonlyMap<string, { limits: QuotaLimits; relative: boolean }>;
}

export class QuotaRuleError extends Error {
  override readonly name = 'QuotaRuleError';
}

const UNITS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

function amount(v: string, bareUnit: number, rule: string): number {
  const m = /^\+?(\d+)\s*([bkmgt]?)$/i.exec(v.trim());
  if (m === null) throw new QuotaRuleError(`Invalid quota rule: ${rule}`);
  const unit = m[2] === '' ? bareUnit : UNITS[m[2]!.toLowerCase()]!;
  return Number(m[1]) * unit;
}

export function parseQuotaRule(rule: string): { mailbox: string; limits: QuotaLimits; relative: boolean } {
  const colon = rule.indexOf(':');
  if (colon < 0) throw new QuotaRuleError(`Invalid quota rule: ${rule}`);
  const mailbox = rule.slice(0, colon);
  let bytes = 0;
  let messages = 0;
  let ignore = false;
  let relative = false;
  for (const part of rule.slice(colon + 1).split(':')) {
    const [k, v = ''] = part.split('=', 2) as [string, string?];
    if (v.trim().startsWith('+')) relative = true;
    switch (k.trim().toLowerCase()) {
      case 'storage': bytes = amount(v, 1024, rule); break;
      case 'bytes': bytes = amount(v, 1, rule); break;
      case 'messages': messages = amount(v, 1, rule); break;
      case 'ignore': ignore = true; break;
      case 'backend': break;
      default: throw new QuotaRuleError(`Invalid quota rule: ${rule}`);
    }
  }
  return { mailbox, limits: { bytes, messages, ignore }, relative };
}

/** The effective quota for a user, or undefined when quota is not enabled. */
export function quotaConfig(mailPlugins: readonly string[], plugin: ReadonlyMap<string, string>, userFields: KeyValueFields): QuotaConfig | undefined {
  if (!mailPlugins.includes('quota')) return undefined;
  const user = new Map(userFields.map(([k, v]) => [k, v ?? '']));
  const setting = (k: string): string | undefined => user.get(k) ?? plugin.get(k);
  const q = setting('quota');
  if (q === undefined || q === '') return undefined;
  const [driver = '', name = ''] = q.split(/:(.*)/s);
  if (driver !== 'maildir' && driver !== 'count') return undefined;
  let root: QuotaLimits = { bytes: 0, messages: 0, ignore: false };
  const mailboxes = new Map<string, { limits: QuotaLimits; relative: boolean }>();
  for (let i = 1; i < 100; i++) {
    const key = i === 1 ? 'quota_rule' : `quota_rule${i}`;
    const text = setting(key);
    if (text === undefined) {
      if (i > 1) break;
      continue;
    }
    if (text === '') continue;
    const r = parseQuotaRule(text);
    if (r.mailbox === '*') root = r.limits;
    else mailboxes.set(r.mailbox, { limits: r.limits, relative: r.relative });
  }
  return { backend: driver, name: name.split(':')[0] ?? '', root, mailboxes };
}

/** The limits that apply when saving into `mailbox`. */
export function limitsFor(cfg: QuotaConfig, mailbox: string): QuotaLimits {
  const m = cfg.mailboxes.get(mailbox);
  if (m === undefined) return cfg.root;
  if (m.limits.ignore) return { bytes: 0, messages: 0, ignore: true };
  if (!m.relative) return m.limits;
  return {
    bytes: cfg.root.bytes === 0 ? 0 : cfg.root.bytes + m.limits.bytes,
    messages: cfg.root.messages === 0 ? 0 : cfg.root.messages + m.limits.messages,
    ignore: false,
  };
}

/** The quota root the storage keeps usage for (mda/storage/api.ts openQuota). */
export function quotaRootOf(cfg: QuotaConfig): QuotaRoot {
  return { backend: cfg.backend, name: cfg.name, bytes: cfg.root.bytes, messages: cfg.root.messages };
}
