/*
 * Base subject extraction (RFC 5256 §2.1, used by SORT SUBJECT and THREAD) in Dovecot 2.3's
 * variant (lib-imap/imap-base-subject.c): the subject is RFC 2047-decoded and casemapped first
 * (i;unicode-casemap, so "re:" and "RE:" look alike), whitespace runs become one space, then
 *  (2) trailing "(fwd)" and spaces are removed, (3) leading "[blob]... re|fw|fwd [blob]:" and a
 *  leading space are removed, (4) a leading "[blob]" is removed when something follows, (5)
 *  repeat 3-4, (6) "[fwd: ...]" is unwrapped and everything repeats from (2).
 * Dovecot quirks kept: one space at most is skipped after a blob, a trailer is only searched after
 * the current start position.
 * Distrusts: any subject (never throws; bounded by the subject's length).
 */
import { decodeHeaderValue } from '../search/decode-text.js';
import { casemap } from './casemap.js';

export interface BaseSubject {
  readonly base: string;
  /** A Re:/Fwd: leader, a "(fwd)" trailer or a "[fwd: ]" wrapper was removed. */
  readonly replyOrForward: boolean;
}

function packWhitespace(s: string): string {
  return s.replace(/[ \t\r\n]+/g, ' ');
}

/** Skips one "[...]" blob (and one space after it) at `i`; -1 if none. */
function blobEnd(s: string, i: number): number {
  if (s[i] !== '[') return -1;
  let j = i + 1;
  while (j < s.length && s[j] !== '[' && s[j] !== ']') j++;
  if (s[j] !== ']') return -1;
  j++;
  if (s[j] === ' ') j++;
  return j;
}

/** Base subject of a raw (undecoded) Subject value. */
export function baseSubject(raw: string): BaseSubject {
  return baseSubjectOfDecoded(decodeHeaderValue(raw));
}

/** Base subject of an already decoded Subject. */
export function baseSubjectOfDecoded(decoded: string): BaseSubject {
  let s = packWhitespace(casemap(decoded));
  let start = 0;
  let rf = false;
  for (;;) {
    // (2) trailers
    let end = s.length;
    while (end > start) {
      if (s[end - 1] === ' ') end--;
      else if (end >= 5 && s.slice(end - 5, end) === '(FWD)') {
        rf = true;
        end -= 5;
      } else break;
    }
    s = s.slice(0, end);
    for (;;) {
      let found = false;
      // (3) leader
      if (s[start] === ' ') {
        start++;
        found = true;
      }
      let p = start;
      let ok = true;
      while (s[p] === '[') {
        const e = blobEnd(s, p);
        if (e < 0) {
          ok = false;
          break;
        }
        p = e;
      }
      if (ok) {
        let q = -1;
        if (s.startsWith('RE', p)) q = p + 2;
        else if (s.startsWith('FWD', p)) q = p + 3;
        else if (s.startsWith('FW', p)) q = p + 2;
        if (q >= 0) {
          if (s[q] === ' ') q++;
          let blobOk = true;
          if (s[q] === '[') {
            const e = blobEnd(s, q);
            if (e < 0) blobOk = false;
            else q = e;
          }
          if (blobOk && s[q] === ':') {
            start = q + 1;
            rf = true;
            found = true;
          }
        }
      }
      // (4) blob when non-empty remains
      if (s[start] === '[') {
        const e = blobEnd(s, start);
        if (e >= 0 && e < s.length) {
          start = e;
          found = true;
        }
      }
      if (!found) break;
    }
    // (6) [fwd: ...]
    if (s.startsWith('[FWD:', start) && s.length >= 1 && s[s.length - 1] === ']') {
      rf = true;
      s = s.slice(0, -1);
      start += 5;
      continue;
    }
    break;
  }
  return { base: s.slice(start), replyOrForward: rf };
}
