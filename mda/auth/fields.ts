/*
 * Field templates shared by passdb and userdb sections: `default_fields` (applied under the
 * backend's fields) and `override_fields` (applied over them), plus static userdb args. Written
 * as space-separated key=value with `%` variables expanded per lookup (Dovecot 2.3 auth-fields /
 * passdb-template / userdb-template).
 *
 * Distrusts the template only as config: a token without '=' is a bare key.
 */
import { expandVars } from '../../shared/config/dovecot/var-expand.js';
import type { KeyValueFields } from '../../shared/proto/tab-escape.js';

export type FieldTemplate = readonly [string, string | undefined][];

export function parseFieldTemplate(text: string): FieldTemplate {
  return text.split(/\s+/).filter((t) => t !== '').map((t) => {
    const eq = t.indexOf('=');
    return eq < 0 ? [t, undefined] : [t.slice(0, eq), t.slice(eq + 1)];
  });
}

export function expandTemplate(t: FieldTemplate, vars: Record<string, string | undefined>): KeyValueFields {
  return t.map(([k, v]) => [k, v === undefined ? undefined : expandVars(v, vars)]);
}

/** Sets (replacing in place or appending) each field of `over` into `base`. */
export function mergeFields(base: KeyValueFields, over: KeyValueFields): KeyValueFields {
  const out: KeyValueFields = base.map(([k, v]) => [k, v]);
  for (const [k, v] of over) {
    const i = out.findIndex(([bk]) => bk === k);
    if (i >= 0) out[i] = [k, v];
    else out.push([k, v]);
  }
  return out;
}

/** Default fields under, backend fields, override fields over. */
export function applyTemplates(fields: KeyValueFields, defaults: KeyValueFields, overrides: KeyValueFields): KeyValueFields {
  return mergeFields(mergeFields(defaults, fields), overrides);
}
