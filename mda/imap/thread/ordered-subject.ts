/*
 * THREAD=ORDEREDSUBJECT (RFC 5256 §2.1) as Dovecot 2.3's imap-thread.c builds it: messages sorted
 * by (base subject, sent date, sequence), runs with the same base subject form one thread, threads
 * ordered by their first message's date then its number; every later message is a child of the
 * first one.
 * Pure.
 */
import { compareCasemapped } from '../sort/casemap.js';
import type { ThreadNode } from './tree.js';

export interface OrderedSubjectInput {
  /** The number shown (sequence or UID); ascending with the sequence. */
  readonly id: number;
  readonly seq: number;
  readonly base: string;
  readonly date: number;
}

export function threadOrderedSubject(msgs: readonly OrderedSubjectInput[]): ThreadNode[] {
  const sorted = [...msgs].sort((a, b) => compareCasemapped(a.base, b.base) || a.date - b.date || a.seq - b.seq);
  const threads: { date: number; ids: number[] }[] = [];
  let prev: string | undefined;
  for (const m of sorted) {
    if (prev !== m.base || threads.length === 0) threads.push({ date: m.date, ids: [] });
    threads[threads.length - 1]!.ids.push(m.id);
    prev = m.base;
  }
  threads.sort((a, b) => a.date - b.date || a.ids[0]! - b.ids[0]!);
  return threads.map((t) => ({ uid: t.ids[0]!, children: t.ids.slice(1).map((id) => ({ uid: id, children: [] })) }));
}
