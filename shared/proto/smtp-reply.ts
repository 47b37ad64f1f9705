/*
 * SMTP/LMTP replies as values (RFC 5321 §4.2, RFC 2034/3463 enhanced status codes), and the typed
 * error that carries one: what the client sees (`reply`) is kept apart from what the log records
 * (`logDetail`). Unclassified failures are temporary (451 4.3.0), never a silent 5xx.
 * Pure; used by the MTA's smtpd and delivery agents and by the MDA's LMTP server.
 */

export interface SmtpReply {
  /** Three-digit reply code. */
  code: number;
  /** Enhanced status code (`2.1.0`), or undefined where Postfix sends none (e.g. `501 Syntax: HELO hostname`). */
  enhanced?: string;
  /** Text after the codes; may contain `\n` for a multiline reply. */
  text: string;
}

export function reply(code: number, enhanced: string | undefined, text: string): SmtpReply {
  return enhanced === undefined ? { code, text } : { code, enhanced, text };
}

/** Wire form: `250-…` continuation lines and a final `250 …`, each with the enhanced code, CRLF-terminated. */
export function formatReply(r: SmtpReply): string {
  const lines = r.text.split('\n');
  return lines
    .map((line, i) => {
      const sep = i < lines.length - 1 ? '-' : ' ';
      const body = r.enhanced !== undefined ? `${r.enhanced} ${line}` : line;
      return `${r.code}${sep}${body}`.trimEnd();
    })
    .join('\r\n')
    .concat('\r\n');
}

/** One-line form used in logs and DSNs: `550 5.1.1 <a@b>: Recipient address rejected: …`. */
export function replyText(r: SmtpReply): string {
  return `${r.code}${r.enhanced !== undefined ? ` ${r.enhanced}` : ''} ${r.text.replaceAll('\n', ' ')}`;
}

export const isPermanent = (r: SmtpReply): boolean => r.code >= 500;
export const isTemporary = (r: SmtpReply): boolean => r.code >= 400 && r.code < 500;

/** An error with the reply the client gets and a detail for the log only. */
export class SmtpError extends Error {
  override readonly name = 'SmtpError';
  constructor(
    readonly reply: SmtpReply,
    readonly logDetail?: string,
  ) {
    super(replyText(reply));
  }
}

/** Maps anything thrown to a reply: SmtpError keeps its own, everything else is a temporary local error. */
export function replyForError(err: unknown): SmtpReply {
  if (err instanceof SmtpError) return err.reply;
  const withReply = err as { reply?: unknown } | undefined;
  const r = withReply?.reply as SmtpReply | undefined;
  if (r && typeof r.code === 'number' && typeof r.text === 'string') return r;
  return reply(451, '4.3.0', 'Error: queue file write error');
}
