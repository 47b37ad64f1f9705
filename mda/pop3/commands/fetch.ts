/*
 * The shared body of RETR and TOP: read the stored bytes, convert them (proto/fetch-encode.ts), send
 * them followed by `.`. A message that disappeared meanwhile answers `-ERR Message N expunged.` (Dovecot);
 * other storage failures use the POP3 error map. Returns the octets counted for the logout statistics
 * (the `+OK` line and the data, not the final `.`, as Dovecot counts them), or undefined on failure.
 */
import { isStorageError } from '../../storage/api.js';
import { pop3ErrorFrom } from '../errors.js';
import { encodeMessageForPop3 } from '../proto/fetch-encode.js';
import type { Maildrop } from '../maildrop.js';
import type { Pop3Session } from '../session.js';

export async function sendMessage(s: Pop3Session, md: Maildrop, index: number, firstLine: string, bodyLines?: bigint): Promise<number | undefined> {
  let raw: Buffer;
  try {
    raw = await md.read(index);
  } catch (err) {
    if (isStorageError(err) && (err.kind === 'EXPUNGED' || err.kind === 'NOTFOUND')) {
      await s.reply(`-ERR Message ${index + 1} expunged.`);
    } else {
      const e = pop3ErrorFrom(err);
      s.log.error(`Couldn't read message ${index + 1}: ${e.logDetail}`);
      await s.reply(e.reply);
    }
    return undefined;
  }
  const head = `${firstLine}\r\n`;
  const body = encodeMessageForPop3(raw, bodyLines);
  await s.send(head);
  await s.send(body);
  await s.send('.\r\n');
  return Buffer.byteLength(head) + body.length;
}
