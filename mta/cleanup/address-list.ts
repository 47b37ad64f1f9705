/*
 * Envelope addresses from To/Cc/Bcc header values, for `sendmail -t` (Postfix cleanup's recipient
 * extraction, tok822). Pure and forgiving: groups (`name: a, b;`), display names, quoted strings,
 * comments and angle brackets are understood; anything that yields no address is skipped.
 */

/** Splits at top-level commas/semicolons and group colons, honouring quotes, comments and <>. */
export function extractAddresses(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let angle: string | undefined;
  let inAngle = false;
  let depth = 0;
  let quoted = false;
  const flush = (): void => {
    const a = (angle ?? cur).trim();
    if (a !== '' && !/\s/.test(a.replace(/"[^"]*"/g, ''))) out.push(a);
    else if (angle === undefined && a !== '') {
      const last = a.split(/\s+/).pop()!;
      if (last.includes('@')) out.push(last);
    }
    cur = '';
    angle = undefined;
  };
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted) {
      if (c === '\\') {
        cur += c + (value[++i] ?? '');
        continue;
      }
      if (c === '"') quoted = false;
      cur += c;
      if (inAngle) angle = (angle ?? '') + c;
      continue;
    }
    if (depth > 0) {
      if (c === '(') depth++;
      else if (c === ')') depth--;
      continue;
    }
    if (c === '(') depth++;
    else if (c === '"') {
      quoted = true;
      cur += c;
      if (inAngle) angle = (angle ?? '') + c;
    } else if (c === '<') {
      inAngle = true;
      angle = '';
    } else if (c === '>') inAngle = false;
    else if (inAngle) angle = (angle ?? '') + c;
    else if (c === ',' || c === ';') flush();
    else if (c === ':') cur = '';
    else cur += c;
  }
  flush();
  return out;
}
