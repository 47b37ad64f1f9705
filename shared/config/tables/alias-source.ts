/*
 * Pure parser for aliases(5) files as postalias(1) reads them: `name: value, value …` on logical
 * lines (whitespace continuation, # comments).
 *
 *   - the name ends at the first `:` outside quotes; it is stored unquoted (`"a b": x` → `a b`,
 *     `a\ b: x` → `a b`) and must be local (`a@b:` → `FILE, line N: name must be local`);
 *   - the value is normalised the way Postfix re-externalises the parsed address list: runs of
 *     whitespace become one space, `,` is written `, `, a missing closing quote or parenthesis is
 *     added, text inside quotes and comments is kept as written;
 *   - a line without name, colon or value: `FILE, line N: need name:value pair`.
 * Distrusts: the file; every problem is a warning and the line is skipped.
 */
import { logicalLines } from './source-file.js';
import type { SourceEntry } from './source-file.js';

/** `"a b"` / `a\ b` → `a b`: quotes removed, backslash escapes resolved, outer whitespace dropped. */
export function internalizeAliasName(raw: string): string {
  let out = '';
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c === '\\' && i + 1 < raw.length) {
      out += raw[++i];
    } else if (c === '"') {
      quoted = !quoted;
    } else {
      out += c;
    }
  }
  return out.trim();
}

/** Normalises an alias value as Postfix's tokenize-then-externalize round trip does. */
export function normaliseAliasValue(raw: string): string {
  let out = '';
  let pendingSpace = false;
  const emit = (s: string): void => {
    if (pendingSpace && out !== '' && !out.endsWith(' ')) out += ' ';
    pendingSpace = false;
    out += s;
  };
  for (let i = 0; i < raw.length; ) {
    const c = raw[i] as string;
    if (/\s/.test(c)) {
      pendingSpace = true;
      i++;
      continue;
    }
    if (c === ',') {
      pendingSpace = false;
      out = out.trimEnd();
      out += ', ';
      i++;
      continue;
    }
    if (c === '"' || c === '(' || c === '[') {
      const close = c === '"' ? '"' : c === '(' ? ')' : ']';
      let j = i + 1;
      let depth = 1;
      for (; j < raw.length; j++) {
        const d = raw[j];
        if (d === '\\') {
          j++;
          continue;
        }
        if (c === '(' && d === '(') depth++;
        else if (d === close && --depth === 0) break;
      }
      const text = j < raw.length ? raw.slice(i, j + 1) : `${raw.slice(i)}${close}`;
      emit(text);
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < raw.length && !/[\s,"(\[]/.test(raw[j] as string)) {
      if (raw[j] === '\\') j++;
      j++;
    }
    emit(raw.slice(i, j));
    i = j;
  }
  return out.replace(/, $/, '').trim();
}

/** Finds the name/value colon outside quotes; -1 when absent. */
function nameColon(text: string): number {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ':' && !quoted) return i;
  }
  return -1;
}

export function parseAliasSource(text: string, file: string, warn: (msg: string) => void): SourceEntry[] {
  return [...iterAliasSource(text, file, warn)];
}

/** Lazy twin of parseAliasSource, so warnings interleave with duplicate checks as in Postfix. */
export function* iterAliasSource(text: string, file: string, warn: (msg: string) => void): Generator<SourceEntry> {
  for (const ll of logicalLines(text, file, warn)) {
    const colon = nameColon(ll.text);
    const name = colon < 0 ? '' : internalizeAliasName(ll.text.slice(0, colon));
    const value = colon < 0 ? '' : normaliseAliasValue(ll.text.slice(colon + 1));
    if (name === '' || value === '') {
      warn(`${file}, line ${ll.line}: need name:value pair`);
      continue;
    }
    if (/@/.test(name)) {
      warn(`${file}, line ${ll.line}: name must be local`);
      continue;
    }
    yield { line: ll.line, key: name, value };
  }
}
