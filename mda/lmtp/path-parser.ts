/*
 * Parses the arguments of LMTP `MAIL FROM:` and `RCPT TO:` (RFC 5321 §4.1.2 paths plus ESMTP
 * parameters) the way Dovecot's lib-smtp does, with its error texts: "Missing '<' at beginning of
 * path", "Unexpected whitespace before path", "Null path not allowed", "Invalid character in
 * localpart". Pure.
 *
 * Distrusts the whole line: control characters, unbalanced quotes and brackets, parameters
 * without a keyword are refused. Addresses may be a bare local part (`<postmaster>`), as Dovecot
 * accepts them and then fails the user lookup.
 */

export class PathSyntaxError extends Error {
  override readonly name = 'PathSyntaxError';
  constructor(readonly reason: string) {
    super(reason);
  }
}

export interface ParsedPath {
  /** The address as written (quotes of a quoted local part removed); '' for the null path. */
  readonly address: string;
  readonly localPart: string;
  /** '' when the address has no domain. */
  readonly domain: string;
  /** ESMTP parameters, keyword upper-cased; value undefined for a bare keyword. */
  readonly params: ReadonlyMap<string, string | undefined>;
}

const ATEXT = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\x80-\xff]$/;

function parseLocalPart(s: string, i: number): { local: string; next: number } {
  if (s[i] === '"') {
    let out = '';
    let j = i + 1;
    for (; j < s.length; j++) {
      const c = s[j]!;
      if (c === '\\') {
        j++;
        if (j >= s.length) throw new PathSyntaxError('Invalid character in localpart');
        out += s[j];
      } else if (c === '"') break;
      else if (c.charCodeAt(0) < 0x20 || c === '\x7f') throw new PathSyntaxError('Invalid character in localpart');
      else out += c;
    }
    if (s[j] !== '"') throw new PathSyntaxError('Invalid character in localpart');
    return { local: out, next: j + 1 };
  }
  let j = i;
  let out = '';
  while (j < s.length && (ATEXT.test(s[j]!) || s[j] === '.')) out += s[j++];
  if (out === '' || out.startsWith('.') || out.endsWith('.') || out.includes('..')) throw new PathSyntaxError('Invalid character in localpart');
  return { local: out, next: j };
}

function parseDomain(s: string, i: number): { domain: string; next: number } {
  if (s[i] === '[') {
    const end = s.indexOf(']', i);
    if (end < 0) throw new PathSyntaxError('Invalid domain literal');
    const lit = s.slice(i, end + 1);
    if (/[\x00-\x20\x7f]/.test(lit)) throw new PathSyntaxError('Invalid domain literal');
    return { domain: lit, next: end + 1 };
  }
  let j = i;
  while (j < s.length && /[A-Za-z0-9.\-_\x80-\xff]/.test(s[j]!)) j++;
  const d = s.slice(i, j);
  if (d === '' || d.startsWith('.') || d.endsWith('.') || d.includes('..')) throw new PathSyntaxError('Invalid domain');
  return { domain: d, next: j };
}

function parseParams(s: string): Map<string, string | undefined> {
  const params = new Map<string, string | undefined>();
  for (const tok of s.split(' ')) {
    if (tok === '') continue;
    const eq = tok.indexOf('=');
    const key = (eq < 0 ? tok : tok.slice(0, eq)).toUpperCase();
    if (!/^[A-Z0-9][A-Z0-9-]*$/.test(key)) throw new PathSyntaxError('Invalid parameter');
    const value = eq < 0 ? undefined : tok.slice(eq + 1);
    if (value !== undefined && /[\x00-\x20\x7f=]/.test(value)) throw new PathSyntaxError('Invalid parameter');
    params.set(key, value);
  }
  return params;
}

/**
 * `args` is everything after `FROM:` / `TO:`. `allowNull` is true for MAIL (`<>` is the null
 * reverse-path) and false for RCPT.
 */
export function parsePathArgs(args: string, allowNull: boolean): ParsedPath {
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(args)) throw new PathSyntaxError('Invalid character in path');
  if (args.startsWith(' ') || args.startsWith('\t')) throw new PathSyntaxError('Unexpected whitespace before path');
  if (!args.startsWith('<')) throw new PathSyntaxError("Missing '<' at beginning of path");
  let i = 1;
  let localPart = '';
  let domain = '';
  if (args[i] === '>') {
    if (!allowNull) throw new PathSyntaxError('Null path not allowed');
    i++;
  } else {
    // An RFC 5321 source route (`<@a,@b:user@c>`) is accepted and ignored.
    if (args[i] === '@') {
      const colon = args.indexOf(':', i);
      if (colon < 0) throw new PathSyntaxError('Invalid source route');
      i = colon + 1;
    }
    const lp = parseLocalPart(args, i);
    localPart = lp.local;
    i = lp.next;
    if (args[i] === '@') {
      const d = parseDomain(args, i + 1);
      domain = d.domain;
      i = d.next;
    }
    if (i >= args.length) throw new PathSyntaxError("Missing '>' at end of path");
    if (args[i] !== '>') {
      throw new PathSyntaxError(domain === '' && args[i] !== '@' ? 'Invalid character in localpart' : "Missing '>' at end of path");
    }
    i++;
  }
  const rest = args.slice(i);
  if (rest !== '' && !rest.startsWith(' ')) throw new PathSyntaxError("Invalid character after path");
  const quoted = /[^A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.\x80-\xff]/.test(localPart) || localPart === '';
  const lpText = localPart !== '' && quoted ? `"${localPart.replace(/(["\\])/g, '\\$1')}"` : localPart;
  const address = localPart === '' && domain === '' ? '' : domain === '' ? lpText : `${lpText}@${domain}`;
  return { address, localPart, domain, params: parseParams(rest) };
}
