/*
 * THREAD=REFERENCES (RFC 5256 §2.2) and THREAD=REFS (Dovecot's extension) as Dovecot 2.3 builds
 * them (lib-storage/index/index-thread-links.c and index-thread-finish.c):
 *  - links: messages in UID order; each References id links to the next (never making a loop,
 *    never replacing a parent already set); a message's parent is its last reference (an earlier
 *    conflicting parent is dropped); a duplicate Message-ID gets a node of its own nobody can
 *    reference; without References the first In-Reply-To id is used;
 *  - dummies (ids no message has) are skipped: a message hangs below its nearest real ancestor, or
 *    below the topmost dummy; childless dummies vanish;
 *  - siblings are ordered by sent date (Date:, else arrival) then UID;
 *  - REFERENCES: a dummy root with one child is replaced by it, roots are sorted, then roots
 *    sharing a base subject are merged (RFC 5256 §2.2 step 5 with Dovecot's rules) and sorted again;
 *  - REFS: no subject merging; roots are sorted by the newest date anywhere in their thread.
 * Pure: the caller supplies per-message facts; ids in the tree are UIDs.
 */
import { baseSubject } from '../sort/base-subject.js';

export interface ThreadInput {
  readonly uid: number;
  readonly messageId: string | undefined;
  /** References ids, or the first In-Reply-To id when References has none. */
  readonly references: readonly string[];
  /** Raw Subject value (undefined when the header is missing). */
  readonly subject: string | undefined;
  /** Sent date, else arrival, in seconds. */
  readonly date: number;
}

/** A thread tree node: uid 0 is a dummy. */
export interface ThreadNode {
  readonly uid: number;
  readonly children: ThreadNode[];
}

interface LinkNode {
  msg: ThreadInput | undefined;
  parent: LinkNode | undefined;
}

function hasAncestor(node: LinkNode, ancestor: LinkNode): boolean {
  let n: LinkNode | undefined = node;
  for (let guard = 0; n !== undefined && guard < 1_000_000; guard++) {
    if (n === ancestor) return true;
    n = n.parent;
  }
  return false;
}

function link(parent: LinkNode, child: LinkNode): void {
  if (hasAncestor(parent, child)) return;
  if (child.parent === parent) return;
  if (child.parent === undefined) child.parent = parent;
}

function buildLinks(msgs: readonly ThreadInput[]): LinkNode[] {
  const byId = new Map<string, LinkNode>();
  const order: LinkNode[] = [];
  const nodeFor = (id: string): LinkNode => {
    let n = byId.get(id);
    if (n === undefined) {
      n = { msg: undefined, parent: undefined };
      byId.set(id, n);
      order.push(n);
    }
    return n;
  };
  for (const m of [...msgs].sort((a, b) => a.uid - b.uid)) {
    let node: LinkNode;
    if (m.messageId !== undefined) {
      node = nodeFor(m.messageId);
      if (node.msg !== undefined) {
        node = { msg: m, parent: undefined };
        order.push(node);
      } else node.msg = m;
    } else {
      node = { msg: m, parent: undefined };
      order.push(node);
    }
    let parent: LinkNode | undefined;
    for (let i = 0; i < m.references.length; i++) {
      const r = nodeFor(m.references[i]!);
      if (parent !== undefined) link(parent, r);
      parent = r;
    }
    if (node.parent !== parent && node.parent !== undefined) node.parent = undefined;
    if (parent !== undefined) link(parent, node);
  }
  return order;
}

interface Shadow {
  node: LinkNode;
  children: Shadow[];
}

interface Root {
  shadow: Shadow;
  dummy: boolean;
  ignore: boolean;
  date: number;
  uid: number;
  parentRoot: Root | undefined;
  replyOrForward: boolean;
}

const byDateUid = (a: { date: number; uid: number }, b: { date: number; uid: number }): number => a.date - b.date || a.uid - b.uid;

function sortedChildren(s: Shadow): Shadow[] {
  if (s.children.length < 2) return s.children;
  return [...s.children].sort((a, b) => byDateUid(facts(a), facts(b)));
}

function facts(s: Shadow): { date: number; uid: number } {
  return { date: s.node.msg!.date, uid: s.node.msg!.uid };
}

function shadows(order: readonly LinkNode[]): Root[] {
  const sh = new Map<LinkNode, Shadow>(order.map((n) => [n, { node: n, children: [] }]));
  const roots: Root[] = [];
  for (const n of order) {
    if (n.parent === undefined) {
      roots.push({ shadow: sh.get(n)!, dummy: n.msg === undefined, ignore: false, date: 0, uid: n.msg?.uid ?? 0, parentRoot: undefined, replyOrForward: false });
      continue;
    }
    if (n.msg === undefined) continue;
    let p: LinkNode = n.parent;
    while (p.msg === undefined && p.parent !== undefined) p = p.parent;
    sh.get(p)!.children.unshift(sh.get(n)!);
  }
  return roots;
}

function sortRoots(roots: Root[]): void {
  for (const r of roots) {
    if (r.ignore) continue;
    if (r.dummy) {
      if (r.shadow.children.length === 0) {
        r.ignore = true;
        continue;
      }
      const kids = sortedChildren(r.shadow);
      if (kids.length === 1) {
        r.shadow = kids[0]!;
        r.dummy = false;
        ({ date: r.date, uid: r.uid } = facts(r.shadow));
      } else ({ date: r.date, uid: r.uid } = facts(kids[0]!));
    } else ({ date: r.date, uid: r.uid } = facts(r.shadow));
  }
  roots.sort(byDateUid);
}

function gatherSubjects(roots: readonly Root[]): void {
  const table = new Map<string, Root>();
  for (const r of roots) {
    let msg: ThreadInput;
    if (!r.dummy) msg = r.shadow.node.msg!;
    else if (!r.ignore) msg = sortedChildren(r.shadow)[0]!.node.msg!;
    else continue;
    if (msg.subject === undefined) continue;
    const { base, replyOrForward } = baseSubject(msg.subject);
    if (base === '') continue;
    const held = table.get(base);
    if (held === undefined) table.set(base, r);
    else if (!held.dummy && (r.dummy || (held.replyOrForward && !replyOrForward))) {
      held.parentRoot = r;
      table.set(base, r);
    } else r.parentRoot = held;
    r.replyOrForward = replyOrForward;
  }
}

function mergeSubjects(roots: Root[]): boolean {
  let changed = false;
  const count = roots.length;
  for (let i = 0; i < count; i++) {
    const cur = roots[i]!;
    if (cur.parentRoot === undefined || cur.ignore) continue;
    changed = true;
    let root = cur;
    while (root.parentRoot !== undefined) root = root.parentRoot;
    if (cur.dummy) {
      root.shadow.children.unshift(...cur.shadow.children);
      cur.shadow.children = [];
      cur.ignore = true;
    } else if (root.dummy || (cur.replyOrForward && !root.replyOrForward)) {
      root.shadow.children.unshift(cur.shadow);
      cur.ignore = true;
    } else {
      const dummy: Root = {
        shadow: { node: { msg: undefined, parent: undefined }, children: [cur.shadow, root.shadow] },
        dummy: true, ignore: false, date: 0, uid: 0, parentRoot: undefined, replyOrForward: false,
      };
      root.parentRoot = dummy;
      root.ignore = true;
      cur.ignore = true;
      roots.push(dummy);
    }
  }
  return changed;
}

function toTree(s: Shadow): ThreadNode {
  return { uid: s.node.msg?.uid ?? 0, children: sortedChildren(s).map(toTree) };
}

/** THREAD=REFERENCES: the roots in order. */
export function threadReferences(msgs: readonly ThreadInput[]): ThreadNode[] {
  const roots = shadows(buildLinks(msgs));
  sortRoots(roots);
  gatherSubjects(roots);
  if (mergeSubjects(roots)) sortRoots(roots);
  return roots.filter((r) => !r.ignore).map((r) => (r.dummy ? { uid: 0, children: sortedChildren(r.shadow).map(toTree) } : toTree(r.shadow)));
}

/** THREAD=REFS: no subject merging, threads ordered by their newest message. */
export function threadRefs(msgs: readonly ThreadInput[]): ThreadNode[] {
  const roots = shadows(buildLinks(msgs));
  const newest = (s: Shadow): number => Math.max(s.node.msg?.date ?? 0, ...s.children.map(newest));
  const live = roots.filter((r) => !(r.dummy && r.shadow.children.length === 0));
  for (const r of live) r.date = newest(r.shadow);
  live.sort(byDateUid);
  return live.map((r) => toTree(r.shadow));
}
