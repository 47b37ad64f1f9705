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
 * Distrusts: nothing new: values are exactly what render.ts / search would compute from the file.
 */
import { mailboxGuidOf, type MailboxView, type MessageInfo } from '../../storage/api.js';
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
}

type Entry = { kind: 'text'; value: string } | { kind: 'header'; value: CachedHeader; chars: number };

function sizeOf(e: Entry): number {
  return e.kind === 'text' ? e.value.length : e.chars;
}

class Lru {
  private readonly map = new Map<string, Entry>();
  private chars = 0;

  constructor(private readonly limit: number) {}

  get(key: string): Entry | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: string, value: Entry): void {
    if (sizeOf(value) > this.limit / 8) return;
    const old = this.map.get(key);
    if (old !== undefined) this.chars -= sizeOf(old);
    this.map.delete(key);
    this.map.set(key, value);
    this.chars += sizeOf(value);
    this.trim();
  }

  /** Accounts `n` more characters to an entry that grew in place (derived header forms). */
  grow(key: string, n: number): void {
    const e = this.map.get(key);
    if (e === undefined || e.kind !== 'header') return;
    e.chars += n;
    this.chars += n;
    this.trim();
  }

  private trim(): void {
    for (const [k, v] of this.map) {
      if (this.chars <= this.limit) break;
      this.map.delete(k);
      this.chars -= sizeOf(v);
    }
  }
}

const shared = new Lru(CONTENT_CACHE_CHARS);
const perView = new WeakMap<MailboxView, Lru>();

function cacheOf(view: MailboxView): { cache: Lru; prefix: string } {
  const guid = mailboxGuidOf(view);
  if (guid !== '') return { cache: shared, prefix: `${guid}\0${view.uidValidity}\0` };
  let c = perView.get(view);
  if (c === undefined) {
    c = new Lru(VIEW_CACHE_CHARS);
    perView.set(view, c);
  }
  return { cache: c, prefix: '' };
}

/** The cached value of `item` for `m`, computing and remembering it on a miss. */
export async function cachedItem(view: MailboxView, m: MessageInfo, item: CachedItem, compute: () => Promise<string>): Promise<string> {
  const { cache, prefix } = cacheOf(view);
  const key = `${prefix}${m.uid}\0${m.guid}\0${item}`;
  const hit = cache.get(key);
  if (hit !== undefined && hit.kind === 'text') return hit.value;
  const v = await compute();
  cache.set(key, { kind: 'text', value: v });
  return v;
}

/** A handle on one message's cached header: its fields and a way to remember derived forms. */
export interface HeaderHandle {
  readonly fields: CachedHeader['fields'];
  derived(key: string, compute: () => string): string;
}

/** The top-level header fields of `m`, from the cache or computed (and remembered) on a miss. */
export async function cachedHeader(view: MailboxView, m: MessageInfo, compute: () => Promise<readonly HeaderField[]>): Promise<HeaderHandle> {
  const { cache, prefix } = cacheOf(view);
  const key = `${prefix}${m.uid}\0${m.guid}\0HEADER`;
  const hit = cache.get(key);
  let h: CachedHeader;
  if (hit !== undefined && hit.kind === 'header') h = hit.value;
  else {
    const fields = (await compute()).map((f) => ({ name: f.name, value: f.value }));
    h = { fields, derived: new Map() };
    cache.set(key, { kind: 'header', value: h, chars: fields.reduce((a, f) => a + f.name.length + f.value.length + 16, 64) });
  }
  return {
    fields: h.fields,
    derived(k: string, computeForm: () => string): string {
      const known = h.derived.get(k);
      if (known !== undefined) return known;
      const v = computeForm();
      h.derived.set(k, v);
      cache.grow(key, k.length + v.length + 16);
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
 * when the caller already has the message parsed.
 */
export function messageHeader(view: MailboxView, m: MessageInfo, parsed?: () => readonly HeaderField[] | undefined): Promise<HeaderHandle> {
  return cachedHeader(view, m, async () => {
    const known = parsed?.();
    if (known !== undefined) return known;
    const head = (await view.read(m.uid, { end: HEADER_READ_BYTES })).toString('latin1');
    const h = parseHeader(head, 0, head.length);
    if (h.hasEnd || head.length < HEADER_READ_BYTES) return h.fields;
    const raw = (await view.read(m.uid)).toString('latin1');
    return parseHeader(raw, 0, raw.length).fields;
  });
}
