/*
 * postdrop's job for sendmail: writes one message into $queue_directory/maildrop durably. The file
 * is created under a temporary name starting with `.` (pickup ignores those), filled (envelope,
 * content streamed chunk by chunk, trailer), fsync'd, closed, renamed to its final name, and the
 * directory fsync'd; only then does the promise resolve and sendmail exit 0.
 */
import { open, rename, unlink, mkdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { encodeEnvelope, encodeTrailer, type MaildropEnvelope } from './maildrop-format.js';

/** `name`: the final file name (sendmail -bs uses a queue ID, as postdrop names its files); a unique stem otherwise. */
export async function writeMaildrop(dir: string, env: MaildropEnvelope, content: AsyncIterable<Uint8Array>, name?: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o730 });
  const stem = name ?? `${Date.now().toString(16).toUpperCase()}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const tmp = join(dir, `.tmp.${stem}`);
  // 0640: the maildrop directory is set-gid (group setgid_group, see mta/main.ts), so pickup,
  // running as mail_owner with that group, can read the file; other users cannot.
  const fh = await open(tmp, 'wx', 0o640);
  try {
    await fh.write(encodeEnvelope(env));
    let n = 0;
    for await (const chunk of content) {
      n += chunk.byteLength;
      await fh.write(chunk);
    }
    await fh.write(encodeTrailer(n));
    // DURABILITY: the data is fsync'd before the rename makes it visible to pickup, and the
    // directory is fsync'd before sendmail reports success (exit 0). A crash before the rename
    // leaves only a temporary file (removed by pickup after a day); the message was not accepted.
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  const final = join(dir, stem);
  await rename(tmp, final);
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
  return final;
}
