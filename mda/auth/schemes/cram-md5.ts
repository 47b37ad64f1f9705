/*
 * Dovecot's {CRAM-MD5} (alias {HMAC-MD5}) stored form: 32 bytes (64 hex) = the HMAC-MD5 outer
 * state then the inner state after processing the padded key block, each as four little-endian
 * words (hmac-cram-md5.c). Also computes a CRAM-MD5 response (RFC 2195) from that state, so the
 * CRAM-MD5 mechanism works with either a plaintext or this stored form.
 */
import { createHash } from 'node:crypto';
import { MD5_INIT, md5Compress, md5Resume, stateToBytes, bytesToState } from './md5-state.js';

export const CRAM_MD5_CONTEXT_LEN = 32;

/** The 32-byte context for a secret (keys longer than 64 bytes are hashed first, as HMAC does). */
export function cramMd5Context(secret: Uint8Array): Buffer {
  let key = Buffer.from(secret);
  if (key.length > 64) key = createHash('md5').update(key).digest();
  const ipad = Buffer.alloc(64, 0x36);
  const opad = Buffer.alloc(64, 0x5c);
  for (let i = 0; i < key.length; i++) {
    ipad[i]! ^= key[i]!;
    opad[i]! ^= key[i]!;
  }
  const inner = md5Compress([...MD5_INIT], ipad);
  const outer = md5Compress([...MD5_INIT], opad);
  return Buffer.concat([stateToBytes(outer), stateToBytes(inner)]);
}

/** HMAC-MD5(secret, challenge) computed from a stored 32-byte context. */
export function cramMd5FromContext(context: Uint8Array, challenge: Uint8Array): Buffer {
  const outer = bytesToState(context, 0);
  const inner = bytesToState(context, 16);
  const innerDigest = md5Resume(inner, 64, challenge);
  return md5Resume(outer, 64, innerDigest);
}
