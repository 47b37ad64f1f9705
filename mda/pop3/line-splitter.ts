/*
 * Bounded line reader for POP3 input (pure). Splits on LF and drops one CR before it, as Dovecot's
 * i_stream_next_line() does. Lines are taken one at a time with the bound that applies at that moment (it
 * grows at login: pop3-login's buffer is smaller than pop3's). A line whose length with its line end exceeds
 * the bound, or an unfinished line that already fills it, is an overflow: the caller answers and disconnects
 * as Dovecot does (`-ERR Input buffer full, aborting` before login, `-ERR Input line too long.` after).
 *
 * Distrusts: every byte. The adapter stops reading the socket while `buffered` is large, so a client that
 * pipelines faster than we answer cannot grow this buffer without bound.
 */

export type NextLine = { kind: 'line'; line: Buffer } | { kind: 'overflow' } | { kind: 'none' };

export class LineSplitter {
  private pending: Buffer = Buffer.alloc(0);

  /** Octets received and not yet returned as lines. */
  get buffered(): number {
    return this.pending.length;
  }

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
  }

  /** Takes what is buffered (a hand-over to a mail worker continues from it). */
  take(): Buffer {
    const b = this.pending;
    this.pending = Buffer.alloc(0);
    return b;
  }

  /** Discards anything buffered (after STLS: RFC 2595 §3.1). */
  clear(): void {
    this.pending = Buffer.alloc(0);
  }

  next(maxLength: number): NextLine {
    const lf = this.pending.indexOf(0x0a);
    if (lf < 0) return this.pending.length >= maxLength ? { kind: 'overflow' } : { kind: 'none' };
    if (lf + 1 > maxLength) return { kind: 'overflow' };
    const end = lf > 0 && this.pending[lf - 1] === 0x0d ? lf - 1 : lf;
    const line = this.pending.subarray(0, end);
    this.pending = this.pending.subarray(lf + 1);
    return { kind: 'line', line };
  }
}
