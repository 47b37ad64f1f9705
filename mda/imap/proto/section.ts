/*
 * Body section specifiers (RFC 3501 §6.4.5 `section`): `1.2`, `HEADER`, `TEXT`, `1.MIME`,
 * `HEADER.FIELDS (A B)`, `2.HEADER.FIELDS.NOT (X)`. Shared by FETCH's parser and by the message
 * layer that extracts the bytes, and by the formatter that echoes the section in the response
 * (Dovecot echoes the field names upper-cased, as they were given, in `BODY[HEADER.FIELDS (A B)]`).
 * Part numbers are 1..2^31 as in Dovecot; MIME needs a part number.
 */
export type SectionKind = '' | 'HEADER' | 'TEXT' | 'MIME' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT';

export interface SectionSpec {
  readonly part: readonly number[];
  readonly kind: SectionKind;
  /** For HEADER.FIELDS[.NOT]: the names as sent. */
  readonly fields: readonly string[] | undefined;
}

/** Parses the text between the brackets (without the field list). Undefined if invalid. */
export function parseSection(inner: string, fields: readonly string[] | undefined): SectionSpec | undefined {
  const upper = inner.toUpperCase();
  const m = /^((?:[0-9]{1,10}\.)*[0-9]{1,10})?(?:(?:^|\.)(HEADER\.FIELDS\.NOT|HEADER\.FIELDS|HEADER|TEXT|MIME))?$/.exec(upper);
  if (!m) return undefined;
  const part = m[1] === undefined ? [] : m[1].split('.').map(Number);
  if (part.some((n) => n < 1 || n > 2147483647)) return undefined;
  const kind = (m[2] ?? '') as SectionKind;
  if (kind === 'MIME' && part.length === 0) return undefined;
  const wantsFields = kind === 'HEADER.FIELDS' || kind === 'HEADER.FIELDS.NOT';
  if (wantsFields !== (fields !== undefined)) return undefined;
  if (wantsFields && fields!.length === 0) return undefined;
  return { part, kind, fields: wantsFields ? fields : undefined };
}

/** The section text as echoed in a FETCH response, e.g. `1.HEADER.FIELDS (FROM TO)`. */
export function formatSection(s: SectionSpec): string {
  const parts = s.part.join('.');
  const kind = s.kind === '' ? '' : parts === '' ? s.kind : `.${s.kind}`;
  const fields = s.fields === undefined ? '' : ` (${s.fields.map((f) => f.toUpperCase()).join(' ')})`;
  return `${parts}${kind}${fields}`;
}
