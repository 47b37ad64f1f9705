/*
 * Postfix's line_wrap(3) as bounce uses it (width 79, continuation indent 4): words are never
 * split; a line breaks before the word that would carry it past the width, and continuation lines
 * are indented and count the indent against the width. Pure.
 */
export const WRAP_WIDTH = 79;
export const WRAP_INDENT = 4;

export function lineWrap(text: string, width = WRAP_WIDTH, indent = WRAP_INDENT): string[] {
  const out: string[] = [];
  let len = width;
  let curIndent = 0;
  let start = 0;
  let word = 0;
  const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t';
  const emit = (from: number, to: number): void => {
    let end = to;
    while (end > from && isSpace(text[end - 1])) end--;
    out.push(' '.repeat(curIndent) + text.slice(from, end));
  };
  for (;;) {
    let nextSpace = word;
    while (nextSpace < text.length && !isSpace(text[nextSpace])) nextSpace++;
    if (word > start && nextSpace - start > len) {
      emit(start, word);
      while (word < text.length && isSpace(text[word])) word++;
      if (out.length === 1) {
        curIndent += indent;
        len -= indent;
      }
      start = word;
    }
    if (nextSpace >= text.length) break;
    word = nextSpace + 1;
  }
  emit(start, text.length);
  return out;
}
