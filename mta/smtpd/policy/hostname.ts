/*
 * Host-name and address syntax as smtpd judges it (valid_hostname.c, valid_mailhost_addr.c):
 * labels of letters, digits, `-` and `_` (Postfix tolerates underscores), no label starting or
 * ending with `-`, labels ≤ 63 and names ≤ 255 characters, not all-numeric; address literals
 * `[1.2.3.4]` and `[IPv6:…]`. Pure.
 */
import ipaddr from 'ipaddr.js';

export function validHostname(name: string): boolean {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  if (n === '' || n.length > 255) return false;
  const labels = n.split('.');
  if (labels.every((l) => /^\d+$/.test(l))) return false;
  return labels.every((l) => l.length > 0 && l.length <= 63 && /^[A-Za-z0-9_-]+$/.test(l) && !l.startsWith('-') && !l.endsWith('-'));
}

export function validHostAddr(text: string): boolean {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return true;
  return text.includes(':') && ipaddr.IPv6.isValid(text);
}

/** `[1.2.3.4]` or `[IPv6:2001:db8::1]` (also `[2001:db8::1]`, which Postfix accepts in HELO). */
export function validAddrLiteral(text: string): boolean {
  if (!text.startsWith('[') || !text.endsWith(']')) return false;
  const inner = text.slice(1, -1).replace(/^ipv6:/i, '');
  return validHostAddr(inner);
}

export function isFqdn(name: string): boolean {
  return name.includes('.') && !name.startsWith('.');
}
