/*
 * Memory of what is computed from a message's content that cannot change while the message
 * exists: ENVELOPE, BODYSTRUCTURE and BODY (what Dovecot keeps in dovecot.index.cache as
 * imap.envelope, imap.bodystructure and imap.body), so listing envelopes does not open and parse
 * every message again on each FETCH; and the top-level header fields SEARCH and SORT compare
 * (Dovecot caches the header fields it was asked for, `hdr.*`, the same way), so `SEARCH FROM x`
 * does not read every message file again.
 * Entries are keyed by the mailbox GUID, UIDVALIDITY, UID and the message's GUID (the maildir base
 * name): a maildir file's content never changes under its base name, and a UID never names
 * another message within one UIDVALIDITY. With a mailbox GUID the cache is shared by every view of
 * that mailbox in the process (it survives a re-SELECT, as Dovecot's cache file does); a backend
 * without mailbox GUIDs gets one cache per view (held weakly: it goes with the view).
 * Bounded by the characters held (least recently used dropped first).
 *
 * Behind the memory, the backend's content store (MailboxView.contentStore: the maildir sidecar)
 * keeps the same values on disk, as dovecot.index.cache does: a value missing from memory is
 * looked up there before the message is read and parsed, and a value computed is added to it.
 * So a restart, another session shard, or a mailbox whose entries this process evicted finds
 * them without parsing again (the first seconds after a start were spent parsing every message
 * again: docs/performance.md, "Seventeenth session").
 * Distrusts: nothing new: values are exactly what render.ts / search would compute from the file,
 * and the store answers a value only for the file (GUID) it was computed from.
 */
import { mailboxGuidOf, type ContentRecord, type ContentStore, type MailboxView, type MessageInfo } from '../../storage/api.js';
import { parseHeader, type HeaderField } from '../message/header.js';

export type CachedItem = 'ENVELOPE' | 'BODYSTRUCTURE' | 'BODY';

/** Characters of cached values kept by the shared cache (some 10,000-20,000 messages' worth). */
export const CONTENT_CACHE_CHARS = 16 * 1024 * 1024;
/** Characters kept per view when the mailbox has no GUID. */
export const VIEW_CACHE_CHARS = 1024 * 1024;

/**
 * A message's top-level header as SEARCH uses it: the fields (name and value, as
 * message/header.ts parses them) and, filled in lazily by the caller, derived forms of them
 * (decoded and case-mapped values) that are equally fixed for the message.
 */
export interface CachedHeader {
  readonly fields: readonly Pick<HeaderField, 'name' | 'value'>[];
  /** Derived values by the caller's own key (e.g. the search form of field i). */
  readonly derived: Map<string, string>;
  /**
   * Offered to the content store already (read from it, or added): fields computed for ENVELOPE
   * are not, until SEARCH or SORT asks for them (offerHeader).
   */
  offered: boolean;
}

/** What is cached for one message (by its mailbox, UIDVALIDITY and UID; valid for its GUID only). */
interface MessageEntry {
  readonly uid: number;
  readonly guid: string;
  /** The mailbox key it is filed under (its mailbox is forgotten with its last entry). */
  readonly box: string;
  /** The map holding this entry (to drop it from on eviction). */
  readonly owner: Map<number, MessageEntry>;
  readonly items: Partial<Record<CachedItem, string>>;
  header: CachedHeader | undefined;
  chars: number;
  /** Asked for since eviction last passed it (the clock's second chance). */
  used: boolean;
}

/**
 * The entries of one cache, by mailbox GUID, UIDVALIDITY and UID: number keys and a GUID string
 * the snapshot hands out again and again (its hash is computed once), where one concatenated
 * string key per lookup had to be built and hashed each time (the LRU's get was 2.5 % of the IMAP
 * server's CPU at 100 clients). Bounded by the characters held; eviction is a clock (second
 * chance) over the entries in the order they came, so a hit only sets a bit instead of moving
 * the entry to the back of a map.
 */
export class ContentCache {
  private readonly boxes = new Map<string, { uidValidity: number; messages: Map<number, MessageEntry> }>();
  private readonly order = new Set<MessageEntry>();
  private chars = 0;

  constructor(private readonly limit: number) {}

  /** The entry of message `m` of the mailbox `box`/`uidValidity`; created when `create`. */
  entry(box: string, uidValidity: number, m: MessageInfo, create: boolean): MessageEntry | undefined {
    let b = this.boxes.get(box);
    if (b === undefined || b.uidValidity !== uidValidity) {
      if (!create) return undefined;
      if (b !== undefined) for (const e of [...b.messages.values()]) this.drop(e);
      b = { uidValidity, messages: new Map() };
      this.boxes.set(box, b);
    }
    const e = b.messages.get(m.uid);
    if (e !== undefined && e.guid === m.guid) {
      e.used = true;
      return e;
    }
    if (!create) return undefined;
    if (e !== undefined) this.drop(e);
    // Born used: the value about to be stored must not be the first thing the trim it causes drops.
    const fresh: MessageEntry = { uid: m.uid, guid: m.guid, box, owner: b.messages, items: {}, header: undefined, chars: 64, used: true };
    b.messages.set(m.uid, fresh);
    this.order.add(fresh);
    this.chars += fresh.chars;
    return fresh;
  }

  /** Accounts `n` more characters to `e` (a value added to it), then keeps within the limit; nothing for an evicted entry. */
  grow(e: MessageEntry, n: number): void {
    if (!this.order.has(e)) return; // evicted meanwhile: no longer counted
    e.chars += n;
    this.chars += n;
    this.trim();
  }

  /** How many mailboxes have entries (for tests). */
  mailboxCount(): number {
    return this.boxes.size;
  }

  /** Whether a value of `n` characters is worth keeping (not more than an eighth of the whole). */
  fits(n: number): boolean {
    return n <= this.limit / 8;
  }

  private drop(e: MessageEntry): void {
    if (!this.order.delete(e)) return;
    if (e.owner.get(e.uid) === e) e.owner.delete(e.uid);
    // A mailbox without entries is forgotten, so the map of mailboxes stays as bounded as the entries.
    if (e.owner.size === 0 && this.boxes.get(e.box)?.messages === e.owner) this.boxes.delete(e.box);
    this.chars -= e.chars;
  }

  private trim(): void {
    for (const e of this.order) {
      if (this.chars <= this.limit) break;
      if (e.used) {
        // Asked for since the last pass: to the back, once.
        e.used = false;
        this.order.delete(e);
        this.order.add(e);
      } else {
        this.drop(e);
      }
    }
  }
}

const shared = new ContentCache(CONTENT_CACHE_CHARS);
const perView = new WeakMap<MailboxView, ContentCache>();

function entryOf(view: MailboxView, m: MessageInfo, create: boolean): { cache: ContentCache; entry: MessageEntry | undefined } {
  const guid = mailboxGuidOf(view);
  if (guid !== '') return { cache: shared, entry: shared.entry(guid, view.uidValidity, m, create) };
  let c = perView.get(view);
  if (c === undefined) {
    c = new ContentCache(VIEW_CACHE_CHARS);
    perView.set(view, c);
  }
  return { cache: c, entry: c.entry('', view.uidValidity, m, create) };
}

/** Characters of one value worth writing to the content store (a header: all its fields together). */
export const PERSIST_CHARS = 16 * 1024;

const RECORD_KEY: Readonly<Record<CachedItem, 'envelope' | 'bodystructure' | 'body'>> = {
  ENVELOPE: 'envelope', BODYSTRUCTURE: 'bodystructure', BODY: 'body',
};

/** The content store behind the shared cache (none for a view without a mailbox GUID). */
function storeOf(view: MailboxView): ContentStore | undefined {
  return mailboxGuidOf(view) === '' ? undefined : view.contentStore;
}

/**
 * Fills the memory entry of `m` from the content store, if the store has a record: the values
 * the entry lacks, all at once (a message asked for once is usually asked for again, item by item).
 */
function fromStore(view: MailboxView, m: MessageInfo): { cache: ContentCache; entry: MessageEntry | undefined } | undefined {
  const rec = storeOf(view)?.get(m.uid, m.guid);
  if (rec === undefined) return undefined;
  const found = entryOf(view, m, true);
  const { cache, entry } = found;
  if (entry === undefined) return found;
  let chars = 0;
  for (const item of Object.keys(RECORD_KEY) as CachedItem[]) {
    const v = rec[RECORD_KEY[item]];
    if (v === undefined || entry.items[item] !== undefined || !cache.fits(v.length)) continue;
    entry.items[item] = v;
    chars += v.length;
  }
  if (rec.header !== undefined && entry.header === undefined) {
    const fields: { name: string; value: string }[] = [];
    for (let i = 0; i + 1 < rec.header.length; i += 2) fields.push({ name: rec.header[i]!, value: rec.header[i + 1]! });
    const n = headerChars(fields);
    if (cache.fits(n)) {
      entry.header = { fields, derived: new Map(), offered: true };
      chars += n;
    }
  }
  if (chars > 0) cache.grow(entry, chars);
  return found;
}

/** The memory entry of `m`, filled from the content store when it lacks the header fields. */
function headerEntry(view: MailboxView, m: MessageInfo): { cache: ContentCache; entry: MessageEntry | undefined } {
  const found = entryOf(view, m, false);
  return found.entry?.header === undefined ? fromStore(view, m) ?? found : found;
}

function headerChars(fields: CachedHeader['fields']): number {
  return fields.reduce((a, f) => a + f.name.length + f.value.length + 16, 0);
}

function addToStore(view: MailboxView, m: MessageInfo, values: ContentRecord): void {
  storeOf(view)?.add(m.uid, m.guid, values);
}

/** The cached value of `item` for `m`, computing and remembering it on a miss. */
export async function cachedItem(view: MailboxView, m: MessageInfo, item: CachedItem, compute: () => Promise<string>): Promise<string> {
  const hit = entryOf(view, m, false).entry?.items[item] ?? fromStore(view, m)?.entry?.items[item];
  if (hit !== undefined) return hit;
  const v = await compute();
  const { cache, entry } = entryOf(view, m, true);
  if (entry !== undefined && cache.fits(v.length) && entry.items[item] === undefined) {
    entry.items[item] = v;
    cache.grow(entry, v.length);
  }
  if (v.length <= PERSIST_CHARS) addToStore(view, m, { [RECORD_KEY[item]]: v });
  return v;
}

/** A handle on one message's cached header: its fields and a way to remember derived forms. */
export interface HeaderHandle {
  readonly fields: CachedHeader['fields'];
  derived(key: string, compute: () => string): string;
}

/**
 * The top-level header fields of `m`, from the cache or computed (and remembered) on a miss;
 * computed fields go to the content store too unless `persist` is false.
 */
export async function cachedHeader(view: MailboxView, m: MessageInfo, compute: () => Promise<readonly HeaderField[]>, persist = true): Promise<HeaderHandle> {
  let { cache, entry } = headerEntry(view, m);
  let h = entry?.header;
  if (h === undefined) {
    const fields = (await compute()).map((f) => ({ name: f.name, value: f.value }));
    h = { fields, derived: new Map(), offered: false };
    const chars = headerChars(fields);
    ({ cache, entry } = entryOf(view, m, true));
    // Another caller may have stored it while we computed: use theirs.
    if (entry?.header !== undefined) h = entry.header;
    else if (entry !== undefined && cache.fits(chars)) {
      entry.header = h;
      cache.grow(entry, chars);
    }
  }
  if (persist) offerHeader(view, m, h);
  return handleOf(cache, entry, h);
}

/** Adds `h` to the content store if it was not offered yet (and is not too long to keep there). */
function offerHeader(view: MailboxView, m: MessageInfo, h: CachedHeader): void {
  if (h.offered) return;
  h.offered = true;
  if (headerChars(h.fields) <= PERSIST_CHARS) addToStore(view, m, { header: h.fields.flatMap((f) => [f.name, f.value]) });
}

/**
 * The top-level header fields of `m` if the cache holds them, without waiting: a SEARCH over a
 * mailbox whose headers are cached tests every message in one synchronous pass (evaluate.ts).
 */
export function cachedHeaderNow(view: MailboxView, m: MessageInfo): HeaderHandle | undefined {
  const { cache, entry } = headerEntry(view, m);
  const h = entry?.header;
  if (h === undefined) return undefined;
  offerHeader(view, m, h);
  return handleOf(cache, entry, h);
}

function handleOf(cache: ContentCache, entry: MessageEntry | undefined, header: CachedHeader): HeaderHandle {
  return {
    fields: header.fields,
    derived(k: string, computeForm: () => string): string {
      const known = header.derived.get(k);
      if (known !== undefined) return known;
      const v = computeForm();
      header.derived.set(k, v);
      if (entry?.header === header) cache.grow(entry, k.length + v.length + 16);
      return v;
    },
  };
}

/** Bytes read first for a header-only need; the whole file is read when its header is longer. */
export const HEADER_READ_BYTES = 16 * 1024;

/**
 * The top-level header of `m` through the cache. On a miss only the first HEADER_READ_BYTES are
 * read when the header ends inside them (parseHeader stops at the blank line, so the fields are
 * the same as from the whole file), else the whole message; `parsed` gives the fields instead
 * when the caller already has the message parsed. `persist`: as cachedHeader's.
 */
export function messageHeader(view: MailboxView, m: MessageInfo, parsed?: () => readonly HeaderField[] | undefined, persist = true): Promise<HeaderHandle> {
  return cachedHeader(view, m, async () => {
    const known = parsed?.();
    if (known !== undefined) return known;
    const head = (await view.read(m.uid, { end: HEADER_READ_BYTES })).toString('latin1');
    const h = parseHeader(head, 0, head.length);
    if (h.hasEnd || head.length < HEADER_READ_BYTES) return h.fields;
    const raw = (await view.read(m.uid)).toString('latin1');
    return parseHeader(raw, 0, raw.length).fields;
  }, persist);
}
