/*
 * texthash:FILE — a postmap-format source file read straight into memory at open time (Postfix
 * dict_thash). No index; a changed file takes effect when the table is reopened. Duplicate keys keep
 * the first value with `FILE, line N: duplicate entry: "key"`, like Postfix.
 *
 * Distrusts: the file's syntax (warnings, never exceptions); its absence is a TableOpenError with
 * Postfix's wording `open database FILE: No such file or directory`.
 */
import { readFileSync } from 'node:fs';
import { strerror } from '../../errors/config-error.js';
import { TableOpenError } from './errors.js';
import { MemoryTable } from './memory-table.js';
import { parseTableSource } from './source-file.js';
import { takeStamp, stampChanged, type FileStamp } from './file-stamp.js';
import type { LookupTable, OpenTableOptions } from './table.js';

export class TexthashTable extends MemoryTable implements LookupTable {
  private stamp: FileStamp | undefined;

  static open(name: string, opts: OpenTableOptions = {}): TexthashTable {
    const warn = opts.warn ?? (() => undefined);
    let text: string;
    try {
      text = readFileSync(name, 'utf8');
    } catch (err) {
      throw new TableOpenError(`open database ${name}: ${strerror(err)}`);
    }
    const table = new TexthashTable('texthash', name, opts.fold ?? true);
    table.stamp = takeStamp(name);
    for (const e of parseTableSource(text, name, warn, true)) {
      if (!table.add(e.key, e.value)) warn(`${name}, line ${e.line}: duplicate entry: "${table.normalise(e.key)}"`);
    }
    return table;
  }

  changed(): boolean {
    return this.stamp !== undefined && stampChanged(this.stamp);
  }
}
