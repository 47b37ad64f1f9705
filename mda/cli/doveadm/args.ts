/*
 * doveadm's command-line grammar: the global options (`doveadm [-Dvh] [-c cfg] [-f fmt] [-o k=v]
 * <command> …`) and a small getopt for each command's own options, as Dovecot parses them
 * (getopt with a leading `+`: options end at the first non-option or `--`; `-xVALUE` and
 * `-x VALUE` both work; flags may be bundled, `-1A`). Pure.
 */
import { PRINT_FORMATS, type PrintFormat } from './print.js';
import { getopt as posixGetopt, GetoptError } from '../../../shared/cli/getopt.js';

export interface GlobalOptions {
  config: string;
  format: PrintFormat | undefined;
  /** -o key=value overrides, in order. */
  overrides: [string, string][];
  debug: boolean;
  verbose: boolean;
  hideTitles: boolean;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export class FormatterError extends Error {
  override readonly name = 'FormatterError';
}

export const DEFAULT_CONFIG = '/etc/dovecot/dovecot.conf';

/** Splits the global options off; returns the rest (command words and their arguments). */
export function parseGlobal(argv: readonly string[]): { opts: GlobalOptions; rest: string[] } {
  const opts: GlobalOptions = { config: DEFAULT_CONFIG, format: undefined, overrides: [], debug: false, verbose: false, hideTitles: false };
  const { flags, values, rest } = getopt(argv, 'Dvhc:f:o:i:');
  for (const [k, v] of values) {
    if (k === 'c') opts.config = v;
    else if (k === 'f') {
      if (!(PRINT_FORMATS as readonly string[]).includes(v)) throw new FormatterError(`Unknown print formatter: ${v}`);
      opts.format = v as PrintFormat;
    } else if (k === 'o') {
      const eq = v.indexOf('=');
      if (eq < 0) throw new UsageError(`-o parameter not in key=value format: ${v}`);
      opts.overrides.push([v.slice(0, eq), v.slice(eq + 1)]);
    }
  }
  opts.debug = flags.has('D');
  opts.verbose = flags.has('v') || opts.debug;
  opts.hideTitles = flags.has('h');
  return { opts, rest };
}

export interface Parsed {
  flags: Set<string>;
  /** Options with a value, in order (repeatable ones keep every value). */
  values: [string, string][];
  rest: string[];
}

/**
 * POSIX getopt with a `+` spec: letters, a `:` after those taking a value. Unknown options and
 * missing values throw UsageError.
 */
export function getopt(argv: readonly string[], spec: string): Parsed {
  let parsed;
  try {
    parsed = posixGetopt('doveadm', argv, spec);
  } catch (err) {
    if (err instanceof GetoptError) throw new UsageError(err.detail);
    throw err;
  }
  const flags = new Set<string>();
  const values: [string, string][] = [];
  for (const o of parsed.opts) {
    if (o.arg === undefined) flags.add(o.opt);
    else values.push([o.opt, o.arg]);
  }
  return { flags, values, rest: parsed.rest };
}

/** Last value of an option, if given. */
export function optValue(p: Parsed, c: string): string | undefined {
  let v: string | undefined;
  for (const [k, x] of p.values) if (k === c) v = x;
  return v;
}
