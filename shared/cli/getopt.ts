/*
 * getopt(3) as Postfix's and Dovecot's tools use it (pure), the one option parser of every CLI in
 * bin/ except sendmail (whose Sendmail-compatible options are their own grammar): single-letter
 * options, clustered flags (`-pv`), option arguments attached (`-dALL`) or separate (`-d ALL`),
 * `--` ends the options, and the first non-option argument ends them too (POSIX order, as with a
 * `+` optstring). An unknown option or a missing argument yields glibc's message, which the tools
 * print before their usage line.
 */

export interface GetoptResult {
  opts: Array<{ opt: string; arg?: string }>;
  rest: string[];
}

export class GetoptError extends Error {
  override readonly name = 'GetoptError';
  /** glibc's text without the program name: `invalid option -- 'Z'`. */
  readonly detail: string;
  constructor(prog: string, detail: string) {
    super(`${prog}: ${detail}`);
    this.detail = detail;
  }
}

/** `spec` is getopt's optstring: letters, a letter followed by `:` takes an argument. */
export function getopt(prog: string, argv: readonly string[], spec: string): GetoptResult {
  const opts: GetoptResult['opts'] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      const at = spec.indexOf(c);
      if (at < 0 || c === ':') throw new GetoptError(prog, `invalid option -- '${c}'`);
      if (spec[at + 1] !== ':') {
        opts.push({ opt: c });
        continue;
      }
      let arg = a.slice(j + 1);
      if (arg === '') {
        if (i + 1 >= argv.length) throw new GetoptError(prog, `option requires an argument -- '${c}'`);
        arg = argv[++i]!;
      }
      opts.push({ opt: c, arg });
      break;
    }
  }
  return { opts, rest: argv.slice(i) };
}
