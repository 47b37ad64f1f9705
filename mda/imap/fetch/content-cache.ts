/*
 * Memory of the FETCH items computed from a message's content that cannot change while the
 * message exists: ENVELOPE, BODYSTRUCTURE and BODY (what Dovecot keeps in dovecot.index.cache as
 * imap.envelope, imap.bodystructure and imap.body), so listing envelopes does not open and parse
 * every message again on each FETCH.
 * Entries are keyed by the mailbox GUID, UIDVALIDITY, UID and the message's GUID (the maildir base
 * name): a maildir file's content never changes under its base name, and a UID never names
 * another message within one UIDVALIDITY. With a mailbox GUID the cache is shared by every view of
 * that mailbox in the process (it survives a re-SELECT, as Dovecot's cache file does); a backend
 * without mailbox GUIDs gets one cache per view (held weakly: it goes with the view).
 * Bounded by the characters held (least recently used dropped first).
 * Distrusts: nothing new: values are exactly what render.ts would compute from the file.
 */
import { mailboxGuidOf, type MailboxView, type MessageInfo } from '../../storage/api.js';

export type CachedItem = 'ENVELOPE' | 'BODYSTRUCTURE' | 'BODY';

/** Characters of cached values kept by the shared cache (some 10,000-20,000 messages' worth). */
export const CONTENT_CACHE_CHARS = 16 * 1024 * 1024;
/** Characters kept per view when the mailbox has no GUID. */
export const VIEW_CACHE_CHARS = 1024 * 1024;

class LruStrings {
  private readonly map = new Map<string, string>();
  private chars = 0;

  constructor(private readonly limit: number) {}

  get(key: string): string | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: string, value: string): void {
    if (value.length > this.limit / 8) return;
    const old = this.map.get(key);
    if (old !== undefined) this.chars -= old.length;
    this.map.delete(key);
    this.map.set(key, value);
    this.chars += value.length;
    for (const [k, v] of this.map) {
      if (this.chars <= this.limit) break;
      this.map.delete(k);
      this.chars -= v.length;
    }
  }
}

const shared = new LruStrings(CONTENT_CACHE_CHARS);
const perView = new WeakMap<MailboxView, LruStrings>();

function cacheOf(view: MailboxView): { cache: LruStrings; prefix: string } {
  const guid = mailboxGuidOf(view);
  if (guid !== '') return { cache: shared, prefix: `${guid}\0${view.uidValidity}\0` };
  let c = perView.get(view);
  if (c === undefined) {
    c = new LruStrings(VIEW_CACHE_CHARS);
    perView.set(view, c);
  }
  return { cache: c, prefix: '' };
}

/** The cached value of `item` for `m`, computing and remembering it on a miss. */
export async function cachedItem(view: MailboxView, m: MessageInfo, item: CachedItem, compute: () => Promise<string>): Promise<string> {
  const { cache, prefix } = cacheOf(view);
  const key = `${prefix}${m.uid}\0${m.guid}\0${item}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const v = await compute();
  cache.set(key, v);
  return v;
}
