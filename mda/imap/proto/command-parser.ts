/*
 * Incremental IMAP command parser (RFC 3501 §9 command syntax, RFC 7888 LITERAL+, RFC 3516 literal8,
 * RFC 4466's generic argument grammar) that behaves like Dovecot 2.3's imap-parser.c as seen by a
 * client: same atom rules, same error texts, same points at which a synchronising literal gets its
 * `+ OK` and at which a limit is hit.
 *
 * Fed bytes with push(); next() returns one outcome at a time: a complete command, "need more",
 * "send a continuation" (the caller writes `+ OK\r\n`), or an error. After a non-fatal error the
 * parser drops the rest of that line by itself (it never buffers it). Fatal errors (a literal larger
 * than allowed) mean the caller sends `* BYE <text>` and disconnects, as Dovecot does.
 *
 * Distrusts everything: the line length (excluding literal data) is checked while scanning, before a
 * line is complete, so an endless line costs at most `maxLineLength` bytes of memory; a literal size
 * is checked when its `{n}` is read, before any of its data is buffered or a continuation is sent.
 *
 * Dovecot leniencies kept on purpose: bare LF ends a line, several spaces between arguments are
 * accepted, `)` or `(` may follow a value without a space, a trailing space before CRLF is accepted.
 */
import { COMMAND_TEXT, PARSE_TEXT, commandErrorText } from './errors.js';
import type { ImapArg } from './values.js';

export interface ImapCommand {
  readonly tag: string;
  /** Upper-cased name; `UID FETCH` etc. for UID commands. */
  readonly name: string;
  readonly uid: boolean;
  readonly args: readonly ImapArg[];
}

export type ParseResult =
  | { kind: 'command'; command: ImapCommand }
  | { kind: 'need-more' }
  /** Send `+ OK\r\n`: the client waits for it before sending a synchronising literal. */
  | { kind: 'continuation'; text: string }
  | ParseError;

export interface ParseError {
  kind: 'error';
  /** The tag if it was valid, else `*`. */
  tag: string;
  tagValid: boolean;
  /** Upper-cased command name if it was read. */
  command: string | undefined;
  /** The parser's text, e.g. `Missing ')'`. */
  message: string;
  /** Fatal: answer `* BYE <message>` and close (literal too large). */
  fatal: boolean;
  /** The post-login BAD text Dovecot sends, without the tag or timing suffix. */
  text: string;
}

export interface ParserOptions {
  /** Dovecot imap_max_line_length (default 64k): line bytes outside literals. */
  maxLineLength?: number;
  /** Largest literal for a command (default: maxLineLength, as Dovecot). */
  maxLiteralSize?: (command: string) => number;
  /** Commands where `~{n}` is allowed (default APPEND). */
  literal8Commands?: readonly string[];
  /** Deepest list nesting accepted (default 100). */
  maxListDepth?: number;
}

class NeedMore extends Error {}
class Fail extends Error {
  constructor(
    readonly text: string,
    readonly fatal = false,
  ) {
    super(text);
  }
}

const DEFAULT_MAX_LINE = 65536;

function isAtomChar(c: number): boolean {
  return c > 0x20 && c < 0x7f && c !== 0x28 && c !== 0x29 && c !== 0x7b && c !== 0x22;
}

/** ASTRING-CHAR minus list-wildcards and '+' (RFC 3501 tag). */
function isTagChar(c: number): boolean {
  return isAtomChar(c) && c !== 0x25 && c !== 0x2a && c !== 0x2b && c !== 0x5c;
}

export class ImapCommandParser {
  private buf: Buffer = Buffer.alloc(0);
  private skipping = false;
  private readonly announced = new Set<number>();
  private readonly maxLine: number;
  private readonly maxLiteral: (command: string) => number;
  private readonly literal8: readonly string[];
  private readonly maxDepth: number;
  // scan state of the current attempt
  private pos = 0;
  private lineBytes = 0;
  private tag = '';
  private tagValid = false;
  private name: string | undefined;

  constructor(opts: ParserOptions = {}) {
    this.maxLine = opts.maxLineLength ?? DEFAULT_MAX_LINE;
    this.maxLiteral = opts.maxLiteralSize ?? (() => this.maxLine);
    this.literal8 = opts.literal8Commands ?? ['APPEND'];
    this.maxDepth = opts.maxListDepth ?? 100;
  }

  push(data: Buffer | string): void {
    const chunk = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }

  /** Bytes held (for the caller's own accounting). */
  get buffered(): number {
    return this.buf.length;
  }

  next(): ParseResult {
    if (this.skipping && !this.skipLine()) return { kind: 'need-more' };
    if (this.buf.length === 0) return { kind: 'need-more' };
    this.pos = 0;
    this.lineBytes = 0;
    this.tag = '';
    this.tagValid = false;
    this.name = undefined;
    try {
      const command = this.parseCommand();
      this.consume(this.pos);
      return { kind: 'command', command };
    } catch (e) {
      if (e instanceof NeedMore) {
        if (this.lineBytes > this.maxLine) return this.fail(new Fail(PARSE_TEXT.tooLong));
        const cont = this.pendingContinuation;
        if (cont) {
          this.pendingContinuation = false;
          return { kind: 'continuation', text: 'OK' };
        }
        return { kind: 'need-more' };
      }
      if (e instanceof Fail) return this.fail(e);
      throw e;
    }
  }

  private pendingContinuation = false;

  /**
   * Raw line mode, for input that is not a command (AUTHENTICATE responses, IDLE's DONE): the next
   * line without its line end, undefined while incomplete, null when it exceeds the line limit (the
   * rest of that line is then skipped, so an endless line costs at most the limit).
   */
  takeLine(): string | undefined | null {
    if (this.skipping && !this.skipLine()) return undefined;
    const lf = this.buf.indexOf(0x0a);
    if (lf < 0) {
      if (this.buf.length > this.maxLine) {
        this.buf = Buffer.alloc(0);
        this.skipping = true;
        return null;
      }
      return undefined;
    }
    const end = lf > 0 && this.buf[lf - 1] === 0x0d ? lf - 1 : lf;
    const line = this.buf.toString('latin1', 0, end);
    this.consume(lf + 1);
    return line.length > this.maxLine ? null : line;
  }

  /** Takes the bytes not parsed yet (a hand-over to a mail worker continues from them). */
  takeBuffered(): Buffer {
    const b = this.skipping ? Buffer.alloc(0) : this.buf;
    this.buf = Buffer.alloc(0);
    return b;
  }

  /** Drops everything buffered (STARTTLS: nothing sent in clear may be read as if it came over TLS). */
  discard(): void {
    this.buf = Buffer.alloc(0);
    this.skipping = false;
    this.announced.clear();
  }

  private fail(f: Fail): ParseError {
    const tag = this.tagValid ? this.tag : '*';
    const err: ParseError = {
      kind: 'error',
      tag,
      tagValid: this.tagValid,
      command: this.name,
      message: f.text,
      fatal: f.fatal,
      text: commandErrorText(f.text, this.name, this.tagValid),
    };
    // Drop what was scanned; the rest of the line is skipped as it arrives. A failure at the
    // line end itself has nothing more to skip.
    const atEol = this.pos > 0 && this.buf[this.pos - 1] === 0x0a;
    this.consume(this.pos);
    this.skipping = !atEol && !f.fatal;
    return err;
  }

  private consume(n: number): void {
    this.buf = this.buf.subarray(n);
    this.announced.clear();
  }

  /** Discards up to and including the next LF; false when it is not there yet. */
  private skipLine(): boolean {
    const lf = this.buf.indexOf(0x0a);
    if (lf < 0) {
      this.buf = Buffer.alloc(0);
      return false;
    }
    this.buf = this.buf.subarray(lf + 1);
    this.skipping = false;
    return true;
  }

  private peek(): number {
    if (this.pos >= this.buf.length) throw new NeedMore();
    return this.buf[this.pos]!;
  }

  private take(): number {
    const c = this.peek();
    this.pos++;
    this.lineBytes++;
    if (this.lineBytes > this.maxLine) throw new Fail(PARSE_TEXT.tooLong);
    return c;
  }

  private parseCommand(): ImapCommand {
    let start = this.pos;
    while (this.peek() !== 0x20 && this.peek() !== 0x0d && this.peek() !== 0x0a) this.take();
    const tag = this.buf.toString('latin1', start, this.pos);
    this.tag = tag;
    let ok = tag.length > 0;
    for (let i = 0; i < tag.length && ok; i++) ok = isTagChar(tag.charCodeAt(i));
    if (!ok) throw new Fail(PARSE_TEXT.invalidTag);
    this.tagValid = true;
    if (this.peek() === 0x20) this.take();
    let name = this.readWord();
    if (name === '') throw new Fail(PARSE_TEXT.invalidCommandName);
    name = name.toUpperCase();
    let uid = false;
    if (name === 'UID' && this.peek() === 0x20) {
      this.take();
      const sub = this.readWord();
      if (sub === '') throw new Fail(PARSE_TEXT.invalidCommandName);
      name = `UID ${sub.toUpperCase()}`;
      uid = true;
    }
    this.name = name;
    start = this.pos;
    const args = this.parseArgs(name);
    return { tag, name, uid, args };
  }

  /** Command name: letters, digits and '-' / '_' / '.', as Dovecot's imap_parser_read_command_name. */
  private readWord(): string {
    const start = this.pos;
    for (;;) {
      const c = this.peek();
      if (c === 0x20 || c === 0x0d || c === 0x0a) break;
      if (!isAtomChar(c)) throw new Fail(PARSE_TEXT.invalidCommandName);
      this.take();
    }
    return this.buf.toString('latin1', start, this.pos);
  }

  private parseArgs(name: string): ImapArg[] {
    const root: ImapArg[] = [];
    const stack: ImapArg[][] = [root];
    for (;;) {
      const c = this.peek();
      const cur = stack[stack.length - 1]!;
      if (c === 0x20) {
        this.take();
        continue;
      }
      if (c === 0x0d) {
        this.take();
        if (this.peek() !== 0x0a) throw new Fail(PARSE_TEXT.atomChars);
      }
      if (this.peek() === 0x0a) {
        this.take();
        if (stack.length > 1) throw new Fail(PARSE_TEXT.missingParen);
        return root;
      }
      if (c === 0x28) {
        this.take();
        if (stack.length > this.maxDepth) throw new Fail(PARSE_TEXT.tooDeep);
        const items: ImapArg[] = [];
        cur.push({ type: 'list', items });
        stack.push(items);
      } else if (c === 0x29) {
        this.take();
        if (stack.length === 1) throw new Fail(PARSE_TEXT.unexpectedParen);
        stack.pop();
      } else if (c === 0x22) {
        cur.push(this.readQuoted());
      } else if (c === 0x7b) {
        cur.push(this.readLiteral(name, false));
      } else if (c === 0x7e && this.buf[this.pos + 1] === 0x7b) {
        if (!this.literal8.includes(name)) throw new Fail(PARSE_TEXT.literal8);
        this.take();
        cur.push(this.readLiteral(name, true));
      } else {
        cur.push(this.readAtom());
      }
    }
  }

  private readAtom(): ImapArg {
    const start = this.pos;
    for (;;) {
      const c = this.peek();
      if (c === 0x20 || c === 0x0d || c === 0x0a || c === 0x29) break;
      if (!isAtomChar(c)) throw new Fail(c >= 0x80 ? PARSE_TEXT.atom8bit : PARSE_TEXT.atomChars);
      this.take();
    }
    const value = this.buf.toString('latin1', start, this.pos);
    if (value.toUpperCase() === 'NIL') return { type: 'nil' };
    return { type: 'atom', value };
  }

  private readQuoted(): ImapArg {
    this.take();
    const out: number[] = [];
    for (;;) {
      const c = this.take();
      if (c === 0x22) break;
      if (c === 0x0d || c === 0x0a) throw new Fail(PARSE_TEXT.missingQuote);
      if (c === 0) throw new Fail(PARSE_TEXT.nulInString);
      if (c === 0x5c) {
        const n = this.peek();
        if (n === 0x0d || n === 0x0a) throw new Fail(PARSE_TEXT.missingQuote);
        // Dovecot unescapes any escaped char, not only quoted-specials.
        out.push(this.take());
        continue;
      }
      out.push(c);
    }
    const bytes = Buffer.from(out);
    return { type: 'quoted', bytes, value: bytes.toString('utf8') };
  }

  private readLiteral(name: string, binary: boolean): ImapArg {
    this.take(); // '{'
    let digits = '';
    let nonSync = false;
    for (;;) {
      const c = this.take();
      if (c >= 0x30 && c <= 0x39) {
        digits += String.fromCharCode(c);
        if (digits.length > 20) throw new Fail(PARSE_TEXT.literalSize);
        continue;
      }
      if (c === 0x2b && !nonSync && digits !== '') {
        nonSync = true;
        if (this.peek() !== 0x7d) throw new Fail(PARSE_TEXT.literalSize);
        continue;
      }
      if (c === 0x7d && digits !== '') break;
      throw new Fail(PARSE_TEXT.literalSize);
    }
    const size = Number(digits);
    if (!Number.isSafeInteger(size) || size > this.maxLiteral(name)) throw new Fail(PARSE_TEXT.literalTooBig, true);
    if (this.peek() === 0x0d) this.take();
    if (this.peek() !== 0x0a) throw new Fail(PARSE_TEXT.literalLf);
    this.take();
    const dataStart = this.pos;
    if (this.buf.length - dataStart < size) {
      if (!nonSync && !this.announced.has(dataStart)) {
        this.announced.add(dataStart);
        this.pendingContinuation = true;
      }
      throw new NeedMore();
    }
    this.pos += size;
    const bytes = Buffer.from(this.buf.subarray(dataStart, dataStart + size));
    return { type: 'literal', bytes, value: bytes.toString('utf8'), binary, nonSync };
  }
}

/** The BAD text for an argument error found by a command handler (e.g. "Invalid arguments."). */
export function handlerErrorText(command: string, message: string = COMMAND_TEXT.invalidArguments): string {
  return commandErrorText(message, command, true);
}
