/*
 * CONTEXT=SEARCH (RFC 5267 §4): searches kept up to date with `RETURN (UPDATE)`. Each live result
 * remembers the UIDs it holds and, per message, the MODSEQ it was last evaluated at; when the
 * mailbox changes only new messages and messages whose MODSEQ moved are evaluated again (content
 * never changes, flags always bump the MODSEQ), and the differences go to the client as
 * `* ESEARCH (TAG "t") [UID] REMOVEFROM (0 set) ADDTO (0 set)`, as Dovecot 2.3's imap-sync.c
 * sends them: context position always 0, REMOVEFROM before ADDTO, sequence numbers for SEARCH and
 * UIDs for UID SEARCH, expunged results removed before the EXPUNGE/VANISHED lines that announce
 * them (with the sequence numbers they had), one line per live search in creation order.
 * Like Dovecot, sequence sets and `$` in the criteria are turned into the UIDs they meant when the
 * search ran, so a later expunge does not shift them.
 */
import type { MailboxView, MessageInfo } from '../../storage/api.js';
import { formatQuoted } from '../proto/formatter.js';
import { STAR, type SeqRange, type SequenceSet } from '../proto/sequence-set.js';
import type { SearchKey } from '../proto/search-keys.js';
import { messageMatches, type SearchEnv } from './evaluate.js';
import { formatRuns } from './return-options.js';

export interface LiveSearch {
  readonly tag: string;
  readonly uid: boolean;
  readonly key: SearchKey;
  /** UIDs in the result now. */
  readonly result: Set<number>;
  /** UID → MODSEQ the message was last evaluated at. */
  readonly checked: Map<number, number>;
}

function uidRanges(uids: readonly number[]): SequenceSet {
  const sorted = [...uids].sort((a, b) => a - b);
  const ranges: SeqRange[] = [];
  for (const u of sorted) {
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last.end + 1 === u) ranges[ranges.length - 1] = { start: last.start, end: u };
    else ranges.push({ start: u, end: u });
  }
  // An empty set must match nothing: UID 0 never exists.
  return { type: 'ranges', ranges: ranges.length > 0 ? ranges : [{ start: 4294967295, end: 4294967295 }] };
}

function seqsToUids(set: SequenceSet, view: MailboxView, saved: readonly number[]): number[] {
  if (set.type === 'saved') return [...saved];
  const all = view.messages();
  const out: number[] = [];
  for (const r of set.ranges) {
    let a = r.start === STAR ? all.length : r.start;
    let b = r.end === STAR ? all.length : r.end;
    if (a > b) [a, b] = [b, a];
    for (let s = Math.max(1, a); s <= Math.min(b, all.length); s++) out.push(all[s - 1]!.uid);
  }
  return out;
}

/** The key with sequence sets and `$` replaced by the UIDs they stand for now. */
export function pinKey(key: SearchKey, view: MailboxView, saved: readonly number[]): SearchKey {
  switch (key.op) {
    case 'and':
      return { op: 'and', keys: key.keys.map((k) => pinKey(k, view, saved)) };
    case 'or':
      return { op: 'or', a: pinKey(key.a, view, saved), b: pinKey(key.b, view, saved) };
    case 'not':
      return { op: 'not', key: pinKey(key.key, view, saved) };
    case 'seqset':
      return { op: 'uid', set: uidRanges(seqsToUids(key.set, view, saved)) };
    case 'uid':
      return key.set.type === 'saved' ? { op: 'uid', set: uidRanges(saved) } : key;
    default:
      return key;
  }
}

/** A live search from the result the command just computed. */
export function startLiveSearch(tag: string, uid: boolean, key: SearchKey, view: MailboxView, saved: readonly number[], found: readonly MessageInfo[]): LiveSearch {
  const checked = new Map(view.messages().map((m) => [m.uid, m.modseq]));
  return { tag, uid, key: pinKey(key, view, saved), result: new Set(found.map((m) => m.uid)), checked };
}

function line(s: LiveSearch, removes: readonly number[], adds: readonly number[]): string | undefined {
  if (removes.length === 0 && adds.length === 0) return undefined;
  let text = `ESEARCH (TAG ${formatQuoted(s.tag)})`;
  if (s.uid) text += ' UID';
  const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
  if (removes.length > 0) text += ` REMOVEFROM (0 ${formatRuns(sorted(removes))})`;
  if (adds.length > 0) text += ` ADDTO (0 ${formatRuns(sorted(adds))})`;
  return text;
}

/**
 * Untagged lines for results that lose expunged messages; `seqOf` gives the sequence number each
 * expunged UID had. Call before announcing the expunges.
 */
export function expungeUpdates(searches: readonly LiveSearch[], expunged: readonly number[], seqOf: ReadonlyMap<number, number>): string[] {
  const out: string[] = [];
  for (const s of searches) {
    const removes: number[] = [];
    for (const u of expunged) {
      s.checked.delete(u);
      if (!s.result.delete(u)) continue;
      removes.push(s.uid ? u : seqOf.get(u) ?? 0);
    }
    const l = line(s, removes.filter((n) => n > 0), []);
    if (l !== undefined) out.push(l);
  }
  return out;
}

/** Untagged lines for messages that entered or left results since the last evaluation. */
export async function flagAndNewUpdates(searches: readonly LiveSearch[], env: SearchEnv): Promise<string[]> {
  const out: string[] = [];
  const msgs = env.view.messages();
  for (const s of searches) {
    const adds: number[] = [];
    const removes: number[] = [];
    const present = new Set<number>();
    for (const m of msgs) {
      present.add(m.uid);
      if (s.checked.get(m.uid) === m.modseq) continue;
      s.checked.set(m.uid, m.modseq);
      const match = await messageMatches(env, s.key, m);
      const had = s.result.has(m.uid);
      if (match && !had) {
        s.result.add(m.uid);
        adds.push(s.uid ? m.uid : m.seq);
      } else if (!match && had) {
        s.result.delete(m.uid);
        removes.push(s.uid ? m.uid : m.seq);
      }
    }
    const l = line(s, removes, adds);
    if (l !== undefined) out.push(l);
  }
  return out;
}
