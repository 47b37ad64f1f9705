/*
 * The qmgr control protocol (pure): one request line, one response line, over the Unix socket
 * `$queue_directory/public/postern-qmgr`.
 *
 * It stands in for the Postfix endpoints postqueue and postsuper reach (reference/postfix.md §5.2):
 * `postqueue -f` pokes qmgr (public/qmgr), `-i ID` and `-s site` ask the flush service
 * (public/flush). Requests, ASCII, LF-terminated, at most MAX_LINE bytes:
 *   FLUSH             deliver all deferred mail now                   (postqueue -f, sendmail -q)
 *   SCHEDULE <id>     deliver one message now                         (postqueue -i, sendmail -qI)
 *   SITE <domain>     deliver mail for one destination now            (postqueue -s, sendmail -qR)
 *   WAKEUP            the queue changed behind qmgr's back            (postsuper)
 * Responses: `OK`, `NOTCONFIGURED` (SITE: not in fast_flush_domains), `ERROR <text>`.
 * Distrusts both sides' lines: unknown verbs, bad IDs/domains, control characters and overlong
 * lines are refused by the parsers, never passed on.
 */
import { isValidQueueId } from './queue-id.js';

export const MAX_LINE = 1024;

export type ControlRequest =
  | { verb: 'FLUSH' }
  | { verb: 'SCHEDULE'; queueId: string }
  | { verb: 'SITE'; site: string }
  | { verb: 'WAKEUP' };

export type ControlResponse = { status: 'OK' } | { status: 'NOTCONFIGURED' } | { status: 'ERROR'; text: string };

export class ControlProtocolError extends Error {
  override readonly name = 'ControlProtocolError';
}

/** A destination as postqueue -s accepts it: a domain name or an address literal, printable ASCII. */
export function isValidSite(s: string): boolean {
  return /^[A-Za-z0-9._:\-[\]]{1,255}$/.test(s);
}

export function formatRequest(r: ControlRequest): string {
  switch (r.verb) {
    case 'FLUSH':
    case 'WAKEUP':
      return `${r.verb}\n`;
    case 'SCHEDULE':
      if (!isValidQueueId(r.queueId)) throw new ControlProtocolError(`invalid queue ID: ${r.queueId}`);
      return `SCHEDULE ${r.queueId}\n`;
    case 'SITE':
      if (!isValidSite(r.site)) throw new ControlProtocolError(`invalid destination: ${r.site}`);
      return `SITE ${r.site}\n`;
  }
}

function stripEol(line: string): string {
  if (line.length > MAX_LINE) throw new ControlProtocolError('line too long');
  const l = line.endsWith('\n') ? line.slice(0, -1) : line;
  const t = l.endsWith('\r') ? l.slice(0, -1) : l;
  if (/[\x00-\x1f\x7f]/.test(t)) throw new ControlProtocolError('control character in line');
  return t;
}

export function parseRequest(line: string): ControlRequest {
  const t = stripEol(line);
  const sp = t.indexOf(' ');
  const verb = sp < 0 ? t : t.slice(0, sp);
  const arg = sp < 0 ? undefined : t.slice(sp + 1);
  switch (verb) {
    case 'FLUSH':
    case 'WAKEUP':
      if (arg !== undefined) throw new ControlProtocolError(`${verb} takes no argument`);
      return { verb };
    case 'SCHEDULE':
      if (arg === undefined || !isValidQueueId(arg)) throw new ControlProtocolError('SCHEDULE needs a queue ID');
      return { verb, queueId: arg };
    case 'SITE':
      if (arg === undefined || !isValidSite(arg)) throw new ControlProtocolError('SITE needs a destination');
      return { verb, site: arg };
    default:
      throw new ControlProtocolError(`unknown request: ${verb.slice(0, 32)}`);
  }
}

export function formatResponse(r: ControlResponse): string {
  return r.status === 'ERROR' ? `ERROR ${r.text.replace(/[\x00-\x1f\x7f]/g, ' ').slice(0, MAX_LINE - 8)}\n` : `${r.status}\n`;
}

export function parseResponse(line: string): ControlResponse {
  const t = stripEol(line);
  if (t === 'OK' || t === 'NOTCONFIGURED') return { status: t };
  if (t.startsWith('ERROR ')) return { status: 'ERROR', text: t.slice(6) };
  throw new ControlProtocolError(`malformed response: ${t.slice(0, 32)}`);
}
