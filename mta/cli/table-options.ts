/*
 * Command-line parsing shared by postmap and postalias, with Postfix's getopt(3) behaviour: bundled
 * flags (-fq key), option arguments attached or separate (-qkey, -q key), `--` ends options, and an
 * unknown option prints `PROG: invalid option -- 'Z'` followed by the fatal usage line.
 * Distrusts: argv.
 */
import type { Diag } from '../../shared/cli/diag.js';

export interface TableToolOptions {
  configDir?: string;
  query?: string;
  deleteKey?: string;
  show: boolean;
  incremental: boolean;
  fold: boolean;
  base64: boolean;
  body: boolean;
  header: boolean;
  mime: boolean;
  nul?: 'with' | 'without';
  replace: boolean;
  warnDuplicates: boolean;
  maps: string[];
}

const ARG_FLAGS = new Set(['c', 'd', 'q']);

export function parseTableToolArgs(
  argv: readonly string[],
  prog: string,
  usage: string,
  allowed: string,
  diag: Diag,
  stderr: (s: string) => void,
): TableToolOptions {
  const o: TableToolOptions = {
    show: false,
    incremental: false,
    fold: true,
    base64: false,
    body: false,
    header: false,
    mime: false,
    replace: false,
    warnDuplicates: true,
    maps: [],
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    for (let j = 1; j < a.length; j++) {
      const f = a[j] as string;
      if (!allowed.includes(f) && !ARG_FLAGS.has(f)) {
        stderr(`${prog}: invalid option -- '${f}'\n`);
        diag.fatal(`usage: ${usage}`);
      }
      if (ARG_FLAGS.has(f)) {
        let val = a.slice(j + 1);
        if (val === '') {
          i++;
          if (i >= argv.length) {
            stderr(`${prog}: option requires an argument -- '${f}'\n`);
            diag.fatal(`usage: ${usage}`);
          }
          val = argv[i] as string;
        }
        if (f === 'c') o.configDir = val;
        else if (f === 'd') {
          if (o.query !== undefined) diag.fatal('specify only one of -s -q or -d');
          o.deleteKey = val;
        } else {
          if (o.deleteKey !== undefined) diag.fatal('specify only one of -s -q or -d');
          o.query = val;
        }
        break;
      }
      switch (f) {
        case 'f': o.fold = false; break;
        case 'F': o.base64 = true; break;
        case 'b': o.body = true; break;
        case 'h': o.header = true; break;
        case 'm': o.mime = true; break;
        case 'i': o.incremental = true; break;
        case 'N': o.nul = 'with'; break;
        case 'n': o.nul = 'without'; break;
        case 'r': o.replace = true; break;
        case 's': o.show = true; break;
        case 'w': o.warnDuplicates = false; break;
        default: break; // -o -p -u -U -v: accepted, nothing to do here
      }
    }
  }
  o.maps = argv.slice(i);
  if (o.show && (o.query !== undefined || o.deleteKey !== undefined)) diag.fatal('specify only one of -s -q or -d');
  if (o.maps.length === 0) diag.fatal(`usage: ${usage}`);
  return o;
}
