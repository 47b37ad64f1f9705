/*
 * Pure parser for Postfix table source files (postmap(1) input, texthash:, and the line structure
 * of regexp:/pcre:/cidr:/aliases files). Follows Postfix readllines(3) + postmap's key split:
 *
 *   - lines that are empty, all-whitespace, or whose first non-blank is `#` are skipped, even
 *     between a line and its continuation;
 *   - a line that starts with whitespace continues the previous logical line; the join keeps the
 *     continuation's leading whitespace (`multi a,` + `  b` → `a,  b`), as real postmap does;
 *   - a logical line that starts with whitespace is refused with
 *     `FILE: logical line must not start with whitespace: "…"`;
 *   - the key ends at the first whitespace outside double quotes (3.2+); quotes stay in the key
 *     (`"a b"@x` is stored with its quotes), `\` escapes inside quotes; the value is the rest with
 *     surrounding whitespace removed.
 *
 * Distrusts: everything in the file. Unbalanced quotes and missing values become warnings and the
 * line is skipped, never an exception.
 */

export interface LogicalLine {
  /** 1-based number of the physical line where the logical line starts. */
  readonly line: number;
  readonly text: string;
}

const SPACE = /[ \t\r\n\f\v]/;

export function isSpace(c: string | undefined): boolean {
  return c !== undefined && SPACE.test(c);
}

/** Splits file text into logical lines; `warn` gets the whitespace-start complaint. */
export function logicalLines(text: string, file: string, warn: (msg: string) => void): LogicalLine[] {
  const out: LogicalLine[] = [];
  const phys = text.split('\n');
  if (phys.length > 0 && phys[phys.length - 1] === '') phys.pop();
  let cur: { line: number; text: string } | undefined;
  const flush = (): void => {
    if (cur === undefined) return;
    if (isSpace(cur.text[0])) {
      const shown = cur.text.length > 30 ? `${cur.text.slice(0, 30)}...` : cur.text;
      warn(`${file}: logical line must not start with whitespace: "${shown}"`);
    } else {
      out.push(cur);
    }
    cur = undefined;
  };
  phys.forEach((raw, i) => {
    const trimmed = raw.replace(/^[ \t\r\f\v]+/, '');
    if (trimmed === '' || /^[ \t\r\f\v]*$/.test(raw) || trimmed.startsWith('#')) return;
    if (isSpace(raw[0]) && cur !== undefined) {
      cur.text += raw;
      return;
    }
    flush();
    cur = { line: i + 1, text: raw };
  });
  flush();
  return out;
}

export type KeyValue =
  | { ok: true; key: string; value: string }
  | { ok: false; problem: 'unbalanced' | 'format' };

/** Splits `key whitespace value` with Postfix 3.2+ quoted-key rules. */
export function splitKeyValue(text: string): KeyValue {
  let i = 0;
  let quoted = false;
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '\\' && i + 1 < text.length) i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') {
      quoted = true;
    } else if (isSpace(c)) {
      break;
    }
  }
  if (quoted) return { ok: false, problem: 'unbalanced' };
  const key = text.slice(0, i);
  const value = text.slice(i).replace(/^[ \t\r\n\f\v]+/, '').replace(/[ \t\r\n\f\v]+$/, '');
  if (key === '' || value === '') return { ok: false, problem: 'format' };
  return { ok: true, key, value };
}

export interface SourceEntry {
  readonly line: number;
  readonly key: string;
  readonly value: string;
}

/**
 * Parses a postmap/texthash source into entries in file order (duplicates kept; the caller decides).
 * `ignoringSuffix` reproduces the wording difference: texthash says `-- ignoring this line` after a
 * format complaint, postmap does not.
 */
export function parseTableSource(
  text: string,
  file: string,
  warn: (msg: string) => void,
  ignoringSuffix: boolean,
): SourceEntry[] {
  return [...iterTableSource(text, file, warn, ignoringSuffix)];
}

/** Lazy twin of parseTableSource: warnings interleave with the caller's per-entry work, as in Postfix. */
export function* iterTableSource(
  text: string,
  file: string,
  warn: (msg: string) => void,
  ignoringSuffix: boolean,
): Generator<SourceEntry> {
  for (const ll of logicalLines(text, file, warn)) {
    const kv = splitKeyValue(ll.text);
    if (!kv.ok) {
      if (kv.problem === 'unbalanced') {
        warn(`${file}, line ${ll.line}: unbalanced '"' in '${ll.text}' -- ignoring this line`);
      } else {
        warn(`${file}, line ${ll.line}: expected format: key whitespace value${ignoringSuffix ? ' -- ignoring this line' : ''}`);
      }
      continue;
    }
    yield { line: ll.line, key: kv.key, value: kv.value };
  }
}
