/*
 * postcat's view of a queued message (pure): the LMDB record and content laid out as the record
 * sequence Postfix 3.7's cleanup writes into a queue file, so that `postcat -q ID` prints what an
 * administrator knows from Postfix (reference/postfix.md §5, observed on a real 3.7.11 postcat):
 *
 *   C message_size (six %15ld fields: content size, data offset, recipients, qmgr options,
 *     content length, SMTPUTF8 flags), T arrival time (`sec usec`), A create_time, A log_ident,
 *     A rewrite_context, [A envelope_id, A ret_flags], S sender, the client attributes
 *     (log_client_*, client_*, helo_name, protocol_name, client_address_type, sasl_*), then per
 *     recipient [A notify_flags] A dsn_orig_rcpt, O original_recipient, R recipient (D once done);
 *     M, one N record per content line (L records for pieces of lines over line_length_limit), X, E.
 *
 * Offsets (`postcat -o`, `-s`) are those the same records would have in a Postfix queue file: one
 * type byte, the length as base-128 digits (least significant first, high bit = more), the payload.
 * Differences forced by the LMDB queue (documented in postcat.ts): server_address/server_port and
 * reverse_client_name are not stored (reverse_client_name repeats client_name); the arrival time's
 * microseconds are the stored milliseconds × 1000; delivered recipients are `done_recipient`;
 * the extracted segment is always empty (Postern keeps nothing there).
 */
import type { QueueRecord } from '../queue/types.js';

export type PcKind = 'size' | 'time' | 'attr' | 'sender' | 'orcpt' | 'rcpt' | 'done' | 'filter' | 'mesg' | 'norm' | 'cont' | 'xtra' | 'end';

export interface PcRecord {
  kind: PcKind;
  /** The payload as it would be stored (latin1 text). */
  payload: string;
  offset: number;
}

const NOTIFY_BITS: Record<string, number> = { NEVER: 1, SUCCESS: 2, FAILURE: 4, DELAY: 8 };

/** Bytes a Postfix record with this payload length takes (type + length digits + payload). */
export function recordLength(payloadLength: number): number {
  let digits = 1;
  for (let n = payloadLength >> 7; n > 0; n >>= 7) digits++;
  return 1 + digits + payloadLength;
}

function envelopeAttrs(r: QueueRecord): string[] {
  const a = r.attrs;
  const out: string[] = [];
  if (a.client_address !== undefined) {
    const name = a.client_name ?? 'unknown';
    out.push(`log_client_name=${name}`, `log_client_address=${a.client_address}`);
    if (a.client_port !== undefined) out.push(`log_client_port=${a.client_port}`);
    out.push(`log_message_origin=${name}[${a.client_address}]`);
    if (a.helo_name !== undefined) out.push(`log_helo_name=${a.helo_name}`);
    if (a.protocol !== undefined) out.push(`log_protocol_name=${a.protocol}`);
    out.push(`client_name=${name}`, `reverse_client_name=${name}`, `client_address=${a.client_address}`);
    if (a.client_port !== undefined) out.push(`client_port=${a.client_port}`);
    if (a.helo_name !== undefined) out.push(`helo_name=${a.helo_name}`);
    if (a.protocol !== undefined) out.push(`protocol_name=${a.protocol}`);
    out.push(`client_address_type=${a.client_address.includes(':') ? 10 : 2}`);
  } else {
    out.push('log_message_origin=local');
    if (a.protocol !== undefined) out.push(`log_protocol_name=${a.protocol}`);
  }
  if (a.sasl_method !== undefined) out.push(`sasl_method=${a.sasl_method}`);
  if (a.sasl_username !== undefined) out.push(`sasl_username=${a.sasl_username}`);
  return out;
}

/** Content lines as stored (CRLF ends) → line texts; a last line without CRLF is kept. */
export function contentLines(body: Buffer): string[] {
  const text = body.toString('latin1');
  const lines = text.split('\r\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The whole record sequence with offsets. `lineLimit` is line_length_limit. */
export function queueFileRecords(r: QueueRecord, body: Buffer, lineLimit = 2048): PcRecord[] {
  const list: Array<{ kind: PcKind; payload: string }> = [];
  const push = (kind: PcKind, payload: string) => list.push({ kind, payload });
  const sec = Math.floor(r.arrivalTime / 1000);
  push('size', ''); // filled in below, once the offsets are known
  push('time', `${sec} ${Math.floor(r.arrivalTime % 1000) * 1000}`);
  push('attr', `create_time=${sec}`);
  push('attr', `log_ident=${r.id}`);
  push('attr', `rewrite_context=${r.attrs['rewrite_context'] ?? 'local'}`);
  if (r.envid !== undefined) push('attr', `envelope_id=${r.envid}`);
  if (r.ret !== undefined) push('attr', `ret_flags=${r.ret === 'FULL' ? 1 : 2}`);
  if (r.attrs['content_filter'] !== undefined) push('filter', r.attrs['content_filter']);
  push('sender', r.sender);
  for (const a of envelopeAttrs(r)) push('attr', a);
  for (const rc of r.recipients) {
    if (rc.notify !== undefined) push('attr', `notify_flags=${rc.notify.reduce((n, k) => n | (NOTIFY_BITS[k] ?? 0), 0)}`);
    const orig = rc.originalAddress ?? rc.address;
    push('attr', `dsn_orig_rcpt=${rc.orcpt ?? `rfc822;${orig}`}`);
    push('orcpt', orig);
    push(rc.status === 'done' ? 'done' : 'rcpt', rc.address);
  }
  push('mesg', '');
  for (const line of contentLines(body)) {
    let rest = line;
    while (rest.length > lineLimit) {
      push('cont', rest.slice(0, lineLimit));
      rest = rest.slice(lineLimit);
    }
    push('norm', rest);
  }
  push('xtra', '');
  push('end', '');

  // The size record's payload has a fixed width (6 × %15ld + 5 spaces), so offsets do not depend on its values.
  const sizeLen = 6 * 15 + 5;
  const out: PcRecord[] = [];
  let off = 0;
  for (const rec of list) {
    out.push({ ...rec, offset: off });
    off += recordLength(rec.kind === 'size' ? sizeLen : Buffer.byteLength(rec.payload, 'latin1'));
  }
  const mesg = out.find((x) => x.kind === 'mesg')!;
  const xtra = out.find((x) => x.kind === 'xtra')!;
  const dataOffset = mesg.offset + recordLength(0);
  const contentSize = xtra.offset - dataOffset;
  const notifySuccess = r.recipients.some((rc) => rc.notify?.includes('SUCCESS'));
  const fields = [contentSize, dataOffset, r.recipients.length, notifySuccess ? 12 : 0, contentSize, r.attrs['smtputf8'] === 'yes' ? 1 : 0];
  out[0]!.payload = fields.map((n) => String(n).padStart(15, ' ')).join(' ');
  return out;
}
