/*
 * getopt(3) as the Postfix queue tools use it (pure): single-letter options, clustered flags
 * (`-pv`), option arguments attached (`-dALL`) or separate (`-d ALL`), `--` ends the options,
 * and the first non-option argument ends them too (POSIX order). An unknown option or a missing
 * argument yields glibc's message, which the tools print before their usage line.
 */

export interface GetoptResult {
  opts: Array<{ opt: string; arg?: string }>;
  rest: string[];
}

export class GetoptError extends Error {
  override readonly name = 'GetoptError';
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
      if (at < 0 || c === ':') throw new GetoptError(`${prog}: invalid option -- '${c}'`);
      if (spec[at + 1] !== ':') {
        opts.push({ opt: c });
        continue;
      }
      let arg = a.slice(j + 1);
      if (arg === '') {
        if (i + 1 >= argv.length) throw new GetoptError(`${prog}: option requires an argument -- '${c}'`);
        arg = argv[++i]!;
      }
      opts.push({ opt: c, arg });
      break;
    }
  }
  return { opts, rest: argv.slice(i) };
}
