/*
 * Is a destination eligible for `postqueue -s` (pure)? Postfix's flush client answers "Flush
 * service is not configured for destination" itself when the site does not match
 * fast_flush_domains (default $relay_domains), before it contacts any daemon.
 * Supported list forms: `domain` (also its subdomains, since fast_flush_domains is in
 * parent_domain_matches_subdomains), `.domain` (subdomains only), `!pattern` (exclusion), and
 * `type:table` entries, which this matcher cannot consult and treats as no match.
 * Comparison is case-insensitive; a trailing dot on the site is ignored.
 */

export function siteMatchesFlushDomains(site: string, list: readonly string[]): boolean {
  const s = site.toLowerCase().replace(/\.$/, '');
  for (const raw of list) {
    const negate = raw.startsWith('!');
    const p = (negate ? raw.slice(1) : raw).toLowerCase();
    if (p === '' || p.includes(':') || p.startsWith('/')) continue;
    const hit = p.startsWith('.') ? s.endsWith(p) : s === p || s.endsWith(`.${p}`);
    if (hit) return !negate;
  }
  return false;
}
