/*
 * Pure codecs for Dovecot's small maildir control files:
 * - `dovecot-keywords`: `<idx> <name>\n`, idx 0-25 = filename letter `a`+idx (maildir-keywords.c);
 * - `subscriptions`: `V\t2\n\n` then one storage name per line, hierarchy separator written as TAB,
 *   other bytes tab-escaped (subscription-file.c, str_tabescape); no header = version 1, plain names;
 * - `dovecot-uidvalidity`: the last issued UIDVALIDITY in lower-case hex, no newline.
 *
 * Distrusts: file contents. Bad keyword lines are skipped (Dovecot ignores them too) rather than
 * failing the mailbox; keyword names with spaces or control characters are refused on write.
 */

/** Sparse list: index -> keyword name. */
export type KeywordTable = readonly (string | undefined)[];

export function parseKeywords(text: string): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9]+) (.+)$/.exec(line);
    if (m === null) continue;
    const idx = Number(m[1]);
    if (idx >= 26 || !isValidKeyword(m[2]!)) continue;
    out[idx] = m[2]!;
  }
  return out;
}

export function formatKeywords(table: KeywordTable): string {
  let text = '';
  table.forEach((name, idx) => {
    if (name !== undefined) text += `${idx} ${name}\n`;
  });
  return text;
}

/** IMAP flag-keyword atom (RFC 3501 `atom` minus `]`), as Dovecot accepts for keywords. */
export function isValidKeyword(name: string): boolean {
  return name.length > 0 && name.length <= 250 && /^[!#$&'+,\-.0-9:;<=>?@A-Z[^_`a-z|}~\x80-\uffff]+$/u.test(name);
}

/** Dovecot's str_tabescape: \001 -> \0011, TAB -> \001t, CR -> \001r, LF -> \001n. */
export function tabEscape(s: string): string {
  return s.replace(/[\x01\t\r\n]/g, (c) => ({ '\x01': '\x011', '\t': '\x01t', '\r': '\x01r', '\n': '\x01n' })[c]!);
}

export function tabUnescape(s: string): string {
  return s.replace(/\x01(.)/g, (_m, c: string) => ({ '1': '\x01', t: '\t', r: '\r', n: '\n' })[c] ?? c);
}

/**
 * Parses `subscriptions` into storage names split into components. Version 1 files hold plain
 * names; they are split on `v1Sep` (the storage's separator at the time).
 */
export function parseSubscriptions(text: string, v1Sep: string): string[][] {
  let lines = text.split('\n');
  const v2 = lines[0] === 'V\t2';
  if (v2) lines = lines.slice(1);
  const out: string[][] = [];
  for (const line of lines) {
    if (line === '') continue;
    out.push(v2 ? line.split('\t').map(tabUnescape) : line.split(v1Sep));
  }
  return out;
}

/** Formats storage names (components given as arrays) as a version 2 `subscriptions` file. */
export function formatSubscriptions(names: readonly (readonly string[])[]): string {
  return `V\t2\n\n${names.map((parts) => `${parts.map(tabEscape).join('\t')}\n`).join('')}`;
}

export function parseUidValidityFile(text: string): number | undefined {
  const t = text.trim();
  if (!/^[0-9a-fA-F]{1,8}$/.test(t)) return undefined;
  const n = parseInt(t, 16);
  return n > 0 ? n : undefined;
}

export function formatUidValidityHex(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}
