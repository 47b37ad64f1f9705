/*
 * Sizes as IMAP reports them: "virtual" sizes count every LF not preceded by CR as CRLF (what
 * RFC822.SIZE and BODYSTRUCTURE sizes are in Dovecot, whatever the maildir file holds); line counts
 * are the number of LFs. Also the CRLF conversion used for BODY[] output.
 */

export function virtualLength(msg: string, start: number, end: number): number {
  let n = end - start;
  let pos = start;
  for (;;) {
    const lf = msg.indexOf('\n', pos);
    if (lf < 0 || lf >= end) break;
    if (lf === start || msg[lf - 1] !== '\r') n++;
    pos = lf + 1;
  }
  return n;
}

export function bodyLines(msg: string, start: number, end: number): number {
  let n = 0;
  let pos = start;
  for (;;) {
    const lf = msg.indexOf('\n', pos);
    if (lf < 0 || lf >= end) break;
    n++;
    pos = lf + 1;
  }
  return n;
}

/** Bare LF → CRLF (a CR already before the LF is kept as is). */
export function toCrlf(s: string): string {
  return s.replace(/(^|[^\r])\n/g, '$1\r\n').replace(/(^|[^\r])\n/g, '$1\r\n');
}
