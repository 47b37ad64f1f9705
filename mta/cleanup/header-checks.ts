/*
 * header_checks (Postfix header_checks(5)) as pure decisions: the table value of the first table
 * that matches a logical header becomes a typed action.
 *
 * Follows Postfix cleanup_act.c: REJECT [text] (default `5.7.1 message content rejected`; a text
 * may start with its own 4.x.x/5.x.x code), DISCARD, HOLD, IGNORE, PREPEND header, REPLACE header,
 * WARN, FILTER transport:destination, REDIRECT address, BCC address, DUNNO/OK (no action). An
 * unknown action is logged and ignored (Postfix: `unknown command in header map`).
 * The lookup key is the whole logical header with folded lines joined by `\n`, as Postfix passes it.
 * Distrusts table values: malformed PREPEND/REPLACE text (not a header) is ignored with a warning.
 */
import type { LookupTable } from '../../shared/config/tables/table.js';
import { fieldName } from './headers.js';

export type HeaderAction =
  | { kind: 'none' }
  | { kind: 'reject'; dsn: string; text: string }
  | { kind: 'discard'; text: string }
  | { kind: 'hold'; text: string }
  | { kind: 'ignore' }
  | { kind: 'prepend'; header: string }
  | { kind: 'replace'; header: string }
  | { kind: 'warn'; text: string }
  | { kind: 'filter'; destination: string }
  | { kind: 'redirect'; address: string }
  | { kind: 'bcc'; address: string }
  | { kind: 'invalid'; warning: string };

const DSN_PREFIX = /^([245]\.\d{1,3}\.\d{1,3})(?:\s+|$)/;

/** Splits a REJECT text into its DSN code and the remaining text (Postfix dsn_prepend). */
export function splitDsnText(text: string, defaultDsn: string): { dsn: string; text: string } {
  const m = DSN_PREFIX.exec(text);
  if (m) return { dsn: m[1]!, text: text.slice(m[0].length) };
  return { dsn: defaultDsn, text };
}

export function parseHeaderAction(value: string): HeaderAction {
  const m = /^(\S+)\s*(.*)$/s.exec(value.trim());
  if (!m) return { kind: 'none' };
  const cmd = m[1]!.toUpperCase();
  const arg = m[2]!;
  switch (cmd) {
    case 'REJECT': {
      if (arg === '') return { kind: 'reject', dsn: '5.7.1', text: 'message content rejected' };
      const s = splitDsnText(arg, '5.7.1');
      return { kind: 'reject', dsn: /^[45]/.test(s.dsn) ? s.dsn : `4${s.dsn.slice(1)}`, text: s.text };
    }
    case 'DISCARD':
      return { kind: 'discard', text: arg };
    case 'HOLD':
      return { kind: 'hold', text: arg };
    case 'IGNORE':
      return { kind: 'ignore' };
    case 'WARN':
      return { kind: 'warn', text: arg };
    case 'PREPEND':
    case 'REPLACE':
      if (arg === '' || fieldName(Buffer.from(arg)) === undefined) {
        return { kind: 'invalid', warning: `${cmd} action without text or not a header: ${arg}` };
      }
      return cmd === 'PREPEND' ? { kind: 'prepend', header: arg } : { kind: 'replace', header: arg };
    case 'FILTER':
      if (!/^[^:\s]+:\S*$/.test(arg)) return { kind: 'invalid', warning: `bad FILTER action: ${arg}` };
      return { kind: 'filter', destination: arg };
    case 'REDIRECT':
      if (arg === '') return { kind: 'invalid', warning: 'REDIRECT action without address' };
      return { kind: 'redirect', address: arg };
    case 'BCC':
      if (arg === '') return { kind: 'invalid', warning: 'BCC action without address' };
      return { kind: 'bcc', address: arg };
    case 'DUNNO':
    case 'OK':
      return { kind: 'none' };
    default:
      return { kind: 'invalid', warning: `unknown command in header map: ${value}` };
  }
}

/** The first matching table's action (Postfix stops at the first table that answers). */
export function checkHeader(tables: readonly LookupTable[], headerText: string): HeaderAction {
  for (const t of tables) {
    const v = t.lookup(headerText);
    if (v !== undefined) return parseHeaderAction(v);
  }
  return { kind: 'none' };
}
