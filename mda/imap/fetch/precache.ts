/*
 * Precaching (doveadm index): every value the content cache keeps for a message (its header
 * fields, ENVELOPE, BODYSTRUCTURE and BODY), computed from at most one read and parse of its file
 * and added to the backend's content store, so the first IMAP session that lists or searches the
 * mailbox finds them instead of parsing (Dovecot's doveadm index fills dovecot.index.cache the same
 * way, with the fields its cache decisions name; Postern's set of fields is fixed).
 * Values already kept are not computed again.
 */
import type { MailboxView, MessageInfo } from '../../storage/api.js';
import { buildEnvelope } from '../message/envelope.js';
import { bodyOf, bodyStructureOf, parseMessage, type ParsedMessage } from '../message/message.js';
import { cachedHeader, cachedItem } from './content-cache.js';

/** Computes and keeps what is missing of `m`'s cached values. */
export async function precache(view: MailboxView, m: MessageInfo): Promise<void> {
  let parsed: ParsedMessage | undefined;
  const message = async (): Promise<ParsedMessage> => (parsed ??= parseMessage(await view.read(m.uid)));
  const header = await cachedHeader(view, m, async () => (await message()).root.header.fields);
  await cachedItem(view, m, 'ENVELOPE', async () => buildEnvelope(header));
  await cachedItem(view, m, 'BODYSTRUCTURE', async () => bodyStructureOf(await message()));
  await cachedItem(view, m, 'BODY', async () => bodyOf(await message()));
}
