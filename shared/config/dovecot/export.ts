/*
 * Flattens a configuration view into Dovecot's export list: `key=value` strings in definition order, with list
 * markers (`passdb=0 1`, `namespace=inbox`, `plugin=`), exactly what `doveconf -S` prints and what the human
 * dump (dump.ts) sorts and nests. Pure.
 *
 * Follows Dovecot 2.3's config-request export rules:
 * - scope all (`-a`, `-d`) prints everything; set (`-N`, filter blocks) prints what the config set; changed (`-n`)
 *   prints values that differ from the default;
 * - inside named-list elements (namespace, mailbox, service, listeners) an unset value counts as default and a set
 *   one is always printed, even if equal to the default; the element's name key is always exported (as the
 *   section head);
 * - without hideListDefaults (`doveconf -S`) named-list elements compare against the generic section defaults,
 *   so built-in services show what sets them apart (`service/tcpwrap/executable=tcpwrap`);
 * - observed quirk kept: a namespace's `location` and `prefix` always print in `-n`.
 */
import type { ConfigView } from './view.js';
import {
  GLOBAL_ORDER, LIST_KINDS, STRLIST_KINDS, defaultOf, idKey, isUniqueList, templateDefault, templateKeys,
} from './schema.js';

export type ExportScope = 'all' | 'set' | 'changed';

export interface ExportedKey {
  readonly key: string;
  readonly value: string;
  /** list: a list marker line; unique: the name key of a named-list element (printed as section head). */
  readonly kind: 'normal' | 'list' | 'unique';
}

/** Exports every setting visible in `view` under `scope`, in Dovecot's definition order. */
export function exportView(view: ConfigView, scope: ExportScope, hideListDefaults = true): ExportedKey[] {
  const out: ExportedKey[] = [];

  const value = (path: string, group: string, key: string, parentUnique: boolean): void => {
    const v = view.get(path);
    const isSet = view.isSet(path) || (hideListDefaults && group === 'namespace' && (key === 'location' || key === 'prefix'));
    let dumpDefault = scope === 'all' || (scope === 'set' && isSet);
    const isId = parentUnique && key === idKey(group);
    let def = parentUnique && !hideListDefaults ? templateDefault(group, key) : defaultOf(path);
    if (parentUnique && hideListDefaults) {
      if (!isSet && !isId) def = v;
      else dumpDefault = true;
    }
    if (dumpDefault || v !== def) out.push({ key: path, value: v, kind: isId ? 'unique' : 'normal' });
  };

  const level = (prefix: string, keys: readonly string[], group: string, parentUnique: boolean): void => {
    for (const k of keys) {
      if (LIST_KINDS.has(k)) list(prefix, k);
      else if (STRLIST_KINDS.has(k)) strlist(prefix + k);
      else value(prefix + k, group, k, parentUnique);
    }
  };

  const list = (prefix: string, kind: string): void => {
    const ids = view.listIds(prefix + kind);
    if (ids.length === 0) return;
    out.push({ key: prefix + kind, value: ids.join(' '), kind: 'list' });
    for (const id of ids) level(`${prefix}${kind}/${id}/`, templateKeys(kind), kind, isUniqueList(kind));
  };

  const strlist = (path: string): void => {
    const keys = view.strlistKeys(path);
    if (keys === undefined) return;
    out.push({ key: path, value: '', kind: 'list' });
    for (const k of keys) out.push({ key: `${path}/${k}`, value: view.get(`${path}/${k}`), kind: 'normal' });
  };

  level('', GLOBAL_ORDER, 'global', false);
  return out;
}
