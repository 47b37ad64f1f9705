/*
 * Messages for the workloads, from the shared corpus (/work/shared/corpus, or BENCH_CORPUS): read
 * once, in manifest order, skipping files above a size cap so a few megabyte attachments do not
 * dominate a messages-per-second figure. Each message is kept in three forms: the file's bytes, the
 * CRLF form (APPEND, maildir fixtures) and the LMTP/SMTP DATA form (CRLF, dot-stuffed, ending in
 * CRLF, without the terminating ".").
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const CORPUS_DIR = process.env['BENCH_CORPUS'] ?? '/work/shared/corpus';

export interface CorpusMessage {
  readonly name: string;
  readonly crlf: Buffer;
  readonly data: Buffer;
}

/** Every lone LF becomes CRLF; a missing final line end is added. */
export function toCrlf(b: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0x0a && (i === 0 || b[i - 1] !== 0x0d)) out.push(0x0d);
    out.push(c);
  }
  if (out.length < 2 || out[out.length - 2] !== 0x0d || out[out.length - 1] !== 0x0a) out.push(0x0d, 0x0a);
  return Buffer.from(out);
}

/** RFC 5321 §4.5.2 transparency on a CRLF message: a line starting with "." gets another ".". */
export function dotStuff(crlf: Buffer): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  let lineStart = true;
  for (let i = 0; i < crlf.length; i++) {
    if (lineStart && crlf[i] === 0x2e) {
      parts.push(crlf.subarray(start, i), Buffer.from('.'));
      start = i;
    }
    lineStart = crlf[i] === 0x0a;
  }
  parts.push(crlf.subarray(start));
  return Buffer.concat(parts);
}

let cache: CorpusMessage[] | undefined;

/** Corpus messages of at most `maxBytes` octets (default 256 KiB). */
export function loadCorpus(maxBytes = 256 * 1024): CorpusMessage[] {
  cache ??= (JSON.parse(readFileSync(join(CORPUS_DIR, 'manifest.json'), 'utf8')) as { messages: { file: string }[] }).messages.map((m) => {
    const raw = readFileSync(join(CORPUS_DIR, m.file));
    const crlf = toCrlf(raw);
    return { name: m.file.replace(/^messages\//, ''), crlf, data: dotStuff(crlf) };
  });
  return cache.filter((m) => m.crlf.length <= maxBytes);
}
