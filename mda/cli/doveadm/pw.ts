/*
 * doveadm pw [-l] [-p plaintext] [-r rounds] [-s scheme] [-t hash] [-u user] [-V]
 * (doveadm-pw.c): generate a hash, verify one (`<hash> (verified)`, mismatch exit 75) or list the
 * schemes. Passwords are never printed back except as the hash asked for.
 */
import { generate, isKnownScheme, schemeNames, verify } from '../../auth/schemes/registry.js';
import { getopt, optValue } from './args.js';
import { EX_TEMPFAIL, EX_USAGE, type DoveadmContext } from './context.js';

export const PW_USAGE = 'doveadm pw [-l] [-p plaintext] [-r rounds] [-s scheme] [-t hash] [-u user] [-V]';

export async function pw(ctx: DoveadmContext, args: readonly string[]): Promise<void> {
  const p = getopt(args, 'lp:r:s:t:u:V');
  const printer = ctx.printer('flow');
  if (p.flags.has('l')) {
    printer.printf(`${schemeNames().join(' ')} \n`);
    return;
  }
  const scheme = (optValue(p, 's') ?? 'CRYPT').toUpperCase();
  const plain = optValue(p, 'p');
  const test = optValue(p, 't');
  const roundsText = optValue(p, 'r');
  const user = optValue(p, 'u');
  if (!isKnownScheme(scheme)) ctx.fatal(`Unknown scheme: ${scheme}`, EX_TEMPFAIL);
  if (plain === undefined) ctx.fatal('reading the password from a terminal is not supported; use -p', EX_USAGE);
  const opts = { ...(roundsText !== undefined ? { rounds: Number(roundsText) } : {}), ...(user !== undefined ? { user } : {}) };
  if (test !== undefined) {
    let ok = false;
    try {
      ok = await verify(test, plain, { ...opts });
    } catch (err) {
      ctx.fatal(`reverse decode check failed: ${err instanceof Error ? err.message : String(err)}`, EX_TEMPFAIL);
    }
    if (!ok) ctx.fatal('reverse password verification check failed: Password mismatch', EX_TEMPFAIL);
    printer.printf(`${test} (verified)\n`);
    return;
  }
  printer.printf(`${await generate(scheme, plain, opts)}\n`);
}
