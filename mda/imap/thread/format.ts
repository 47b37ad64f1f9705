/*
 * The THREAD response text (RFC 5256 §4) as Dovecot 2.3's imap-thread.c writes it: each root in
 * parentheses; a single child continues the line ("1 2 3"), several children are each
 * parenthesised ("1 (2)(3 4)"); a dummy parent writes only its children ("((2)(3))").
 * Dovecot's ORDEREDSUBJECT writer differs for a two-message thread only in name: "(1 2)".
 * Pure.
 */
import type { ThreadNode } from './tree.js';

function writeChildren(nodes: readonly ThreadNode[], id: (uid: number) => number, root: boolean): string {
  if (nodes.length === 0) return '';
  if (nodes.length === 1 && !root) {
    const n = nodes[0]!;
    return n.children.length > 0 ? `${id(n.uid)} ${writeChildren(n.children, id, false)}` : `${id(n.uid)}`;
  }
  let out = '';
  for (const n of nodes) {
    if (n.children.length === 0) {
      if (n.uid !== 0) out += `(${id(n.uid)})`;
    } else out += `(${n.uid !== 0 ? `${id(n.uid)} ` : ''}${writeChildren(n.children, id, false)})`;
  }
  return out;
}

/** `THREAD …` (without `* `); `id` maps a node's number to what the client sees. */
export function formatThread(roots: readonly ThreadNode[], id: (n: number) => number = (n) => n): string {
  const body = writeChildren(roots, id, true);
  // Dovecot writes "* THREAD " (with the space) when nothing matched.
  return `THREAD ${body}`;
}
