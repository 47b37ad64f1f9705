/*
 * Strict base64 for SASL data on auth sockets: the standard alphabet, padding optional, nothing
 * else (Node's decoder would silently skip junk). Dovecot answers undecodable data with
 * "Invalid base64 data in …". Pure.
 */
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

export function decodeBase64Strict(s: string): Buffer | undefined {
  return B64.test(s) ? Buffer.from(s, 'base64') : undefined;
}
