/*
 * Per-view memory of the FETCH items computed from a message's content that cannot change while
 * the message exists: ENVELOPE, BODYSTRUCTURE and BODY (what Dovecot keeps in dovecot.index.cache
 * as imap.envelope, imap.bodystructure and imap.body), so listing envelopes does not open and
 * parse every message again on each FETCH. Entries are keyed by UID and the message's GUID (the
 * maildir base name): a maildir file's content never changes under its base name, and a UID never
 * names another message within one UIDVALIDITY (a view is always one UIDVALIDITY).
 * Bounded per view by the characters held (least recently used dropped first); the view is held
 * weakly, so a closed view's cache goes with it.
 * Distrusts: nothing new: values are exactly what render.ts would compute from the file.
 */
import type { MailboxView, MessageInfo } from '../../storage/api.js';

export type CachedItem = 'ENVELOPE' | 'BODYSTRUCTURE' | 'BODY';

/** Characters of cached values kept per view (about 1,000–2,000 messages' worth). */
export const CONTENT_CACHE_CHARS = 2 * 1024 * 1024;

class ViewCache {
  private readonly map = new Map<string, string>();
  private chars = 0;

  get(key: string): string | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: string, value: string): void {
    if (value.length > CONTENT_CACHE_CHARS / 4) return;
    const old = this.map.get(key);
    if (old !== undefined) this.chars -= old.length;
    this.map.delete(key);
    this.map.set(key, value);
    this.chars += value.length;
    for (const [k, v] of this.map) {
      if (this.chars <= CONTENT_CACHE_CHARS) break;
      this.map.delete(k);
      this.chars -= v.length;
    }
  }
}

const caches = new WeakMap<MailboxView, ViewCache>();

/** The cached value of `item` for `m`, computing and remembering it on a miss. */
export async function cachedItem(view: MailboxView, m: MessageInfo, item: CachedItem, compute: () => Promise<string>): Promise<string> {
  let c = caches.get(view);
  if (c === undefined) {
    c = new ViewCache();
    caches.set(view, c);
  }
  const key = `${m.uid}\0${m.guid}\0${item}`;
  const hit = c.get(key);
  if (hit !== undefined) return hit;
  const v = await compute();
  c.set(key, v);
  return v;
}
