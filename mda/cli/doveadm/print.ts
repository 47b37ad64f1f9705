/*
 * doveadm's output formatters (Dovecot 2.3 doveadm-print-{flow,tab,table,json,pager}.c behaviour):
 * a command declares headers (key, title, flags) and then prints values row by row; the chosen
 * formatter (-f) lays them out. Pure: everything is collected into two byte channels that the CLI
 * writes at the end, in the order real doveadm's bytes reach stdout:
 *  - `out`: the formatter's ostream (flow, tab, json, pager), written when doveadm deinitialises;
 *  - `stdio`: printf() text (table rows, `auth lookup`, `user -f`, "doesn't exist" lines), which
 *    libc flushes at exit, i.e. after the ostream. (Real doveadm flushes earlier past ~8 KiB of
 *    output; for large outputs the interleaving can differ, the bytes of each channel do not.)
 * Table: up to 100 rows are buffered to size the columns for an 80-column (or the tty's) width;
 * the width left over goes half to the first EXPAND column (else the last one); titles are shown
 * unless every header hides its title. JSON escapes as Dovecot's json_append_escaped().
 */

export type PrintFormat = 'flow' | 'tab' | 'table' | 'json' | 'pager';
export const PRINT_FORMATS: readonly PrintFormat[] = ['flow', 'tab', 'table', 'json', 'pager'];

export interface PrintHeader {
  readonly key: string;
  readonly title: string;
  readonly hideTitle?: boolean;
  readonly rightJustify?: boolean;
  readonly expand?: boolean;
  /** JSON prints it as a bare number. */
  readonly number?: boolean;
}

type Value = string | Buffer;

const TABLE_BUFFER_LINES = 100;

const bytes = (v: Value): Buffer => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v);

/** Dovecot's json_append_escaped(): quotes, backslash and control characters. */
export function jsonEscape(v: Buffer): Buffer {
  const out: number[] = [];
  for (const c of v) {
    if (c === 0x22 || c === 0x5c) out.push(0x5c, c);
    else if (c === 0x08) out.push(0x5c, 0x62);
    else if (c === 0x0c) out.push(0x5c, 0x66);
    else if (c === 0x0a) out.push(0x5c, 0x6e);
    else if (c === 0x0d) out.push(0x5c, 0x72);
    else if (c === 0x09) out.push(0x5c, 0x74);
    else if (c < 0x20) out.push(...Buffer.from(`\\u${c.toString(16).padStart(4, '0')}`, 'latin1'));
    else out.push(c);
  }
  return Buffer.from(out);
}

/** Code points, as uni_utf8_strlen() counts them. */
function utf8Len(s: string): number {
  return [...s].length;
}

interface TableHeader {
  readonly h: PrintHeader;
  min: number;
  max: number;
  length: number;
}

export class DoveadmPrinter {
  readonly headers: PrintHeader[] = [];
  private readonly out: Buffer[] = [];
  private readonly stdio: Buffer[] = [];
  private idx = 0;
  private firstRow = true;
  private headerWritten = false;
  private jsonOpen = false;
  private flushed = false;
  private readonly tableRows: string[] = [];
  private readonly stickies = new Map<string, Value>();
  private tableHeaders: TableHeader[] | undefined;

  constructor(readonly format: PrintFormat, private readonly columns = 80, private readonly hideTitles = false) {}

  header(h: PrintHeader): void {
    this.headers.push(h);
    if (this.format === 'tab' && !this.hideTitles) {
      this.emit(`${this.headers.length > 1 ? '\t' : ''}${h.title}`);
    }
  }

  /**
   * The formatted formatter's stream (doveadm_print() under DOVEADM_PRINT_TYPE_FORMATTED with a format
   * like `%{result} `): written before any printf() text, as doveadm's ostream is flushed before stdio.
   */
  formatted(s: Value): void {
    this.out.push(bytes(s));
  }

  /** printf() output (stdio channel). */
  printf(s: Value): void {
    this.stdio.push(bytes(s));
  }

  private emit(s: Value): void {
    this.out.push(bytes(s));
  }

  private tabFlushHeader(): void {
    if (!this.headerWritten) {
      if (!this.hideTitles) this.emit('\n');
      this.headerWritten = true;
    }
  }

  private nextHeader(): PrintHeader {
    const h = this.headers[this.idx];
    if (h === undefined) throw new Error('doveadm print: more values than headers');
    return h;
  }

  private advance(): boolean {
    this.idx++;
    if (this.idx === this.headers.length) {
      this.idx = 0;
      return true;
    }
    return false;
  }

  /** doveadm_print_sticky(): a value printed automatically whenever its column comes up. */
  sticky(key: string, value: Value): void {
    this.stickies.set(key, value);
  }

  private fillSticky(): void {
    for (let guard = 0; guard < this.headers.length; guard++) {
      const v = this.stickies.get(this.nextHeader().key);
      if (v === undefined) return;
      this.printOne(v);
    }
  }

  /** One value (doveadm_print). */
  print(value: Value): void {
    this.fillSticky();
    this.printOne(value);
  }

  private printOne(value: Value): void {
    const h = this.nextHeader();
    switch (this.format) {
      case 'flow': {
        if (h.hideTitle !== true) this.emit(`${h.title}=`);
        this.emit(value);
        this.emit(this.advance() ? '\n' : ' ');
        return;
      }
      case 'tab': {
        this.tabFlushHeader();
        if (this.idx > 0) this.emit('\t');
        this.emit(value);
        if (this.advance()) this.emit('\n');
        return;
      }
      case 'pager': {
        if (this.idx === 0 && !this.firstRow) this.emit('\f\n');
        this.firstRow = false;
        if (h.hideTitle !== true) this.emit(`${h.title}: `);
        this.emit(value);
        this.emit('\n');
        this.advance();
        return;
      }
      case 'json': {
        this.jsonValueHeader(h);
        if (h.number === true && /^-?[0-9]+(\.[0-9]+)?$/.test(bytes(value).toString('latin1'))) this.emit(value);
        else {
          this.emit('"');
          this.emit(jsonEscape(bytes(value)));
          this.emit('"');
        }
        if (this.advance()) this.emit('}');
        return;
      }
      case 'table': {
        const s = bytes(value).toString('utf8');
        if (s.includes('\n')) throw new DoveadmPrintError("table formatter doesn't support multi-line values");
        if (this.tableHeaders === undefined) {
          if (this.tableRows.length / this.headers.length < TABLE_BUFFER_LINES) {
            this.tableRows.push(s);
            this.idx = (this.idx + 1) % this.headers.length;
            return;
          }
          this.tableFlushBuffer();
        }
        this.tableNext(s);
        return;
      }
    }
  }

  /** A streamed value (doveadm_print_stream: message headers, bodies). */
  printStream(value: Value): void {
    this.fillSticky();
    const h = this.nextHeader();
    switch (this.format) {
      case 'flow':
        if (h.hideTitle !== true) this.emit(`${h.title}=`);
        this.emit(value);
        this.emit(this.advance() ? '\n' : ' ');
        return;
      case 'tab': {
        // Dovecot writes a TAB before every chunk of a stream and again at its (empty) end.
        this.tabFlushHeader();
        const tab = this.idx > 0;
        if (bytes(value).length > 0) {
          if (tab) this.emit('\t');
          this.emit(value);
        }
        if (tab) this.emit('\t');
        if (this.advance()) this.emit('\n');
        return;
      }
      case 'pager':
        if (h.hideTitle !== true) this.emit(`${h.title}:\n`);
        this.emit(value);
        this.advance();
        return;
      case 'json':
        this.jsonValueHeader(h);
        this.emit('"');
        this.emit(jsonEscape(bytes(value)));
        this.emit('"');
        if (this.advance()) this.emit('}');
        return;
      case 'table':
        this.printOne(value);
        return;
    }
  }

  private jsonValueHeader(h: PrintHeader): void {
    if (this.idx === 0) {
      this.emit(this.jsonOpen ? ',' : '[');
      this.jsonOpen = true;
      this.emit('{');
    } else this.emit(',');
    this.emit(`"${jsonEscape(Buffer.from(h.key, 'utf8')).toString('utf8')}":`);
  }

  private tableCalc(): TableHeader[] {
    const hs: TableHeader[] = this.headers.map((h) => ({ h, min: utf8Len(h.title), max: utf8Len(h.title), length: utf8Len(h.title) }));
    const n = hs.length;
    for (let i = 0; i < this.tableRows.length; i++) {
      const t = hs[i % n]!;
      const len = utf8Len(this.tableRows[i]!);
      if (t.min > len) t.min = len;
      if (t.max < len) {
        t.max = len;
        t.length = len;
      }
    }
    let max = hs.reduce((a, t) => a + t.max + 1, 0) - 1;
    while (max > this.columns) {
      const orig = max;
      for (let i = n - 1; ; i--) {
        const t = hs[i]!;
        let diff = t.length - t.min;
        if (max - diff <= this.columns) {
          diff = max - this.columns;
          t.length -= diff;
          max -= diff;
          break;
        }
        if (diff > 0) t.length -= diff === 1 ? 1 : Math.floor(diff / 2);
        if (i === 0) break;
      }
      if (max === orig) break;
    }
    if (max < this.columns) {
      let i = 0;
      for (; i < n; i++) {
        if (hs[i]!.h.expand === true) {
          i++;
          break;
        }
      }
      hs[i - 1]!.length += Math.floor((this.columns - max) / 2);
    }
    return hs;
  }

  private pad(t: TableHeader, s: string): string {
    const fill = ' '.repeat(Math.max(0, t.length - utf8Len(s)));
    return t.h.rightJustify === true ? fill + s : s + fill;
  }

  private tableFlushBuffer(): void {
    const hs = (this.tableHeaders = this.tableCalc());
    if (!this.hideTitles && hs.some((t) => t.h.hideTitle !== true)) {
      this.printf(`${hs.map((t) => this.pad(t, t.h.title)).join(' ')}\n`);
    }
    const rows = this.tableRows.splice(0);
    this.idx = 0;
    for (const v of rows) this.tableNext(v);
  }

  private tableNext(s: string): void {
    const t = this.tableHeaders![this.idx]!;
    this.printf(this.pad(t, s));
    this.printf(this.advance() ? '\n' : ' ');
  }

  /** doveadm_print_flush(): end of output. */
  flush(): void {
    if (this.flushed) return;
    this.flushed = true;
    switch (this.format) {
      case 'flow':
      case 'pager':
        if (this.idx !== 0) {
          this.emit('\n');
          this.idx = 0;
        }
        return;
      case 'tab':
        this.tabFlushHeader();
        return;
      case 'json':
        this.emit(this.jsonOpen ? ']' : '[]');
        return;
      case 'table':
        if (this.tableHeaders === undefined && this.headers.length > 0) this.tableFlushBuffer();
        return;
    }
  }

  /** Everything for stdout: the formatter's stream, then printf() text. */
  result(): Buffer {
    return Buffer.concat([...this.out, ...this.stdio]);
  }
}

export class DoveadmPrintError extends Error {
  override readonly name = 'DoveadmPrintError';
}
