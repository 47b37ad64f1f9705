/*
 * doveadm's mailbox masks (IMAP LIST style), in a module of their own so that `mailbox list` and
 * `mailbox status` do not load the search-query parser and the IMAP search grammar behind it.
 */

/** IMAP LIST-style mask matcher: `*` anything, `%` anything but the separator; INBOX any case. */
export function mailboxMatcher(masks: readonly string[], separator: string): (name: string) => boolean {
  const esc = (t: string): string => t.replace(/[.+^${}()|[\]\\?]/g, '\\$&');
  const res = masks.map((m) => {
    const mask = /^inbox$/i.test(m.slice(0, 5)) && (m.length === 5 || m.slice(5, 5 + separator.length) === separator) ? `INBOX${m.slice(5)}` : m;
    const body = mask.split('').map((c) => (c === '*' ? '.*' : c === '%' ? `[^${esc(separator)}]*` : esc(c))).join('');
    return new RegExp(`^${body}$`, 's');
  });
  return (name) => masks.length === 0 || res.some((r) => r.test(name));
}
