/*
 * Message-number and line-count arguments, parsed as Dovecot's pop3 get_msgnum()/get_size() (pure).
 * The texts echo what follows the parse point, exactly as Dovecot 2.3.19 does:
 *   `-ERR Invalid message number: x`, `-ERR Message number too large: 99999999999`, `-ERR Noise after message
 *   number:  2`, `-ERR Invalid size: x`, `-ERR Size too large: …`, `-ERR Noise after size:  x`.
 * Message numbers are 32-bit unsigned (str_parse_uint), line counts 64-bit (str_parse_uoff). Range checks
 * (`There's no message N.`, `Message is deleted.`) need the maildrop and live in the commands.
 *
 * Distrusts: the whole argument string (client input).
 */

export type NumberParse = { ok: true; value: bigint; rest: string } | { ok: false; reply: string };

const U32_MAX = 0xffffffffn;
const U64_MAX = 0xffffffffffffffffn;

function parseUnsigned(args: string, max: bigint, thenSpace: boolean, what: { invalid: string; large: string; noise: string }): NumberParse {
  const first = args.charCodeAt(0);
  if (!(first >= 0x30 && first <= 0x39)) return { ok: false, reply: `-ERR ${what.invalid}: ${args}` };
  let i = 0;
  let n = 0n;
  while (i < args.length && args.charCodeAt(i) >= 0x30 && args.charCodeAt(i) <= 0x39) {
    n = n * 10n + BigInt(args.charCodeAt(i) - 0x30);
    if (n > max) return { ok: false, reply: `-ERR ${what.large}: ${args}` };
    i++;
  }
  let rest = args.slice(i);
  if (thenSpace ? !rest.startsWith(' ') : rest !== '') return { ok: false, reply: `-ERR ${what.noise}: ${rest}` };
  rest = rest.replace(/^ +/, '');
  return { ok: true, value: n, rest };
}

/** A message number; `thenSpace` when another argument must follow (TOP). */
export function parseMsgnum(args: string, thenSpace: boolean): NumberParse {
  return parseUnsigned(args, U32_MAX, thenSpace, {
    invalid: 'Invalid message number', large: 'Message number too large', noise: 'Noise after message number',
  });
}

/** TOP's line count. */
export function parseLineCount(args: string): NumberParse {
  return parseUnsigned(args, U64_MAX, false, { invalid: 'Invalid size', large: 'Size too large', noise: 'Noise after size' });
}
