/*
 * Command-line parsing shared by postmap and postalias, with Postfix's getopt(3) behaviour: bundled
 * flags (-fq key), option arguments attached or separate (-qkey, -q key), `--` ends options, and an
 * unknown option prints `PROG: invalid option -- 'Z'` followed by the fatal usage line.
 * Distrusts: argv.
 */
import type { Diag } from '../../shared/cli/diag.js';
import { getopt, GetoptError } from '../../shared/cli/getopt.js';

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
  // -c, -d and -q take a value for every table tool; the other letters are the tool's own flags.
  const spec = `${[...allowed].filter((f) => !ARG_FLAGS.has(f)).join('')}c:d:q:`;
  let parsed;
  try {
    parsed = getopt(prog, argv, spec);
  } catch (e) {
    if (!(e instanceof GetoptError)) throw e;
    stderr(`${e.message}\n`);
    diag.fatal(`usage: ${usage}`);
  }
  for (const { opt: f, arg: val } of parsed.opts) {
    if (val !== undefined) {
      if (f === 'c') o.configDir = val;
      else if (f === 'd') {
        if (o.query !== undefined) diag.fatal('specify only one of -s -q or -d');
        o.deleteKey = val;
      } else {
        if (o.deleteKey !== undefined) diag.fatal('specify only one of -s -q or -d');
        o.query = val;
      }
      continue;
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
  o.maps = parsed.rest;
  if (o.show && (o.query !== undefined || o.deleteKey !== undefined)) diag.fatal('specify only one of -s -q or -d');
  if (o.maps.length === 0) diag.fatal(`usage: ${usage}`);
  return o;
}
