/*
 * smtpd's input side: a bounded, pull-based reader over the client socket, reading the way Postfix's
 * smtp_get() does (global/smtp_stream.c):
 *  - a line ends at LF; a CR right before the LF is dropped; `bareLf` tells whether the CR was missing
 *    (the smtpd_forbid_bare_newline defences need that);
 *  - a command line longer than line_length_limit is cut at the limit and the rest of it skipped
 *    (readCommand), while message content longer than the limit comes back in pieces (readPiece);
 *  - every read has the smtpd_timeout deadline; EOF and timeout are typed errors;
 *  - buffered() says whether the client has sent ahead (pipelining detection).
 * After STARTTLS, attach() moves the reader to the TLS socket and drops any plaintext the client
 * pipelined after the STARTTLS command (the CVE-2011-0411 class of command injection).
 * Distrusts the peer: at most `maxBuffer` bytes are held before the socket is paused.
 */
import type { Duplex } from 'node:stream';

export class InputEofError extends Error {
  override readonly name = 'InputEofError';
}
export class InputTimeoutError extends Error {
  override readonly name = 'InputTimeoutError';
}

export interface Piece {
  data: Buffer;
  /** How the piece ended: at a CRLF, at a bare LF, or cut at the length limit (no line end yet). */
  end: 'crlf' | 'lf' | 'cut';
}

export interface CommandLine {
  text: string;
  bareLf: boolean;
  /** The line was longer than the limit; the excess was skipped. */
  truncated: boolean;
}

export class SmtpInput {
  private chunks: Buffer[] = [];
  private length = 0;
  private eof = false;
  private waiter: (() => void) | undefined;
  private stream: Duplex | undefined;
  private readonly onData = (b: Buffer) => {
    this.chunks.push(b);
    this.length += b.length;
    if (this.length > this.maxBuffer) this.stream?.pause();
    this.wake();
  };
  private readonly onEnd = () => {
    this.eof = true;
    this.wake();
  };

  constructor(
    stream: Duplex,
    private timeoutMs: number,
    private readonly maxBuffer = 256 * 1024,
  ) {
    this.attach(stream);
  }

  setTimeout(ms: number): void {
    this.timeoutMs = ms;
  }

  /** Reads from another stream from now on (STARTTLS); buffered plaintext is discarded. */
  attach(stream: Duplex): void {
    if (this.stream) {
      this.stream.off('data', this.onData);
      this.stream.off('end', this.onEnd);
      this.stream.off('close', this.onEnd);
      this.stream.off('error', this.onEnd);
    }
    this.chunks = [];
    this.length = 0;
    this.eof = false;
    this.stream = stream;
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('close', this.onEnd);
    stream.on('error', this.onEnd);
  }

  /** Bytes received and not yet read. */
  buffered(): number {
    return this.length;
  }

  /** A printable copy of what is buffered (for the improper-pipelining log line). */
  peek(max = 100): Buffer {
    return this.compact().subarray(0, max);
  }

  /** Discards buffered input and stops listening. */
  detach(): void {
    if (this.stream) {
      this.stream.off('data', this.onData);
      this.stream.off('end', this.onEnd);
      this.stream.off('close', this.onEnd);
      this.stream.off('error', this.onEnd);
    }
    this.chunks = [];
    this.length = 0;
    this.stream = undefined;
  }

  /** One command line, cut at `limit` bytes with the rest of the line skipped. */
  async readCommand(limit: number): Promise<CommandLine> {
    const first = await this.readPiece(limit);
    let truncated = false;
    let end = first.end;
    while (end === 'cut') {
      truncated = true;
      end = (await this.readPiece(limit)).end;
    }
    return { text: first.data.toString('latin1'), bareLf: end === 'lf', truncated };
  }

  /** Up to `limit` bytes of one line. */
  async readPiece(limit: number): Promise<Piece> {
    for (;;) {
      const p = this.takePiece(limit);
      if (p !== undefined) return p;
      await this.more();
    }
  }

  /**
   * readPiece without waiting: the next piece if the buffered input already holds one, else
   * undefined (the DATA reader takes every buffered line before it waits for more input).
   */
  takePiece(limit: number): Piece | undefined {
    const buf = this.compact();
    const nl = buf.indexOf(0x0a);
    if (nl >= 0 && nl <= limit) {
      const crlf = nl > 0 && buf[nl - 1] === 0x0d;
      this.consume(nl + 1);
      return { data: Buffer.from(buf.subarray(0, crlf ? nl - 1 : nl)), end: crlf ? 'crlf' : 'lf' };
    }
    if (buf.length > limit) {
      // Postfix keeps a CR at the cut for the next piece so that CRLF is still seen whole.
      let cut = limit;
      if (buf[cut - 1] === 0x0d) cut--;
      this.consume(cut);
      return { data: Buffer.from(buf.subarray(0, cut)), end: 'cut' };
    }
    return undefined;
  }

  /** Exactly `n` bytes (BDAT), delivered in slices of at most `slice` bytes to `sink`. */
  async readExact(n: number, sink: (b: Buffer) => void | Promise<void>, slice = 64 * 1024): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.length === 0) await this.more();
      const buf = this.compact();
      const take = Math.min(left, buf.length, slice);
      this.consume(take);
      left -= take;
      await sink(Buffer.from(buf.subarray(0, take)));
    }
  }

  private compact(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  private consume(n: number): void {
    const buf = this.compact();
    const rest = buf.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.length = rest.length;
    if (this.length <= this.maxBuffer) this.stream?.resume();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private more(): Promise<void> {
    if (this.eof || !this.stream) return Promise.reject(new InputEofError('lost connection'));
    this.stream.resume();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new InputTimeoutError('timeout'));
      }, this.timeoutMs);
      this.waiter = () => {
        clearTimeout(timer);
        if (this.length === 0 && this.eof) reject(new InputEofError('lost connection'));
        else resolve();
      };
    });
  }
}
