/*
 * Pairing two lists of messages by UID, as a sync does between what it had and what it has now
 * (the sidecar's stored records and the mailbox's messages; a view's list and a new snapshot).
 * Both are normally in UID order (the uidlist's), so one forward walk pairs them without building a
 * map; a list that is not (a hand-edited uidlist) gets a map instead. Pure functions only.
 */

export function isAscending(ms: readonly { readonly uid: number }[]): boolean {
  for (let i = 1; i < ms.length; i++) if (ms[i - 1]!.uid >= ms[i]!.uid) return false;
  return true;
}

/**
 * A lookup of the index in `list` of each UID, for a caller that walks `asked` in its order and
 * asks for each of its UIDs once: a forward walk over `list` when both are in ascending UID order,
 * else a map. -1 for a UID `list` does not have.
 */
export function uidIndexFinder(list: readonly { readonly uid: number }[], asked: readonly { readonly uid: number }[]): (uid: number) => number {
  if (!isAscending(list) || !isAscending(asked)) {
    const at = new Map(list.map((x, i) => [x.uid, i]));
    return (uid) => at.get(uid) ?? -1;
  }
  let j = 0;
  return (uid) => {
    while (j < list.length && list[j]!.uid < uid) j++;
    return j < list.length && list[j]!.uid === uid ? j++ : -1;
  };
}

/** As uidIndexFinder, answering the item itself. */
export function uidFinder<T extends { readonly uid: number }>(
  list: readonly T[], asked: readonly { readonly uid: number }[],
): (uid: number) => T | undefined {
  const find = uidIndexFinder(list, asked);
  return (uid) => {
    const i = find(uid);
    return i < 0 ? undefined : list[i];
  };
}

/**
 * The index of the item of `list` with UID `uid`, or -1: a binary search, for a list in ascending
 * UID order (the normal case), checked by a walk when it finds nothing (a list that is not in order).
 */
export function indexByUid(list: readonly { readonly uid: number }[], uid: number): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const u = list[mid]!.uid;
    if (u === uid) return mid;
    if (u < uid) lo = mid + 1;
    else hi = mid - 1;
  }
  return isAscending(list) ? -1 : list.findIndex((x) => x.uid === uid);
}

/** The item of `list` with UID `uid` (indexByUid). */
export function byUidIn<T extends { readonly uid: number }>(list: readonly T[], uid: number): T | undefined {
  const i = indexByUid(list, uid);
  return i < 0 ? undefined : list[i];
}

/**
 * The items of two lists in ascending UID order as one list in that order; an item of `b` whose
 * UID `a` has already is left out.
 */
export function mergeByUid<T extends { readonly uid: number }>(a: readonly T[], b: readonly T[]): T[] {
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x.uid < y.uid)) {
      out.push(x!);
      i++;
    } else if (x === undefined || y.uid < x.uid) {
      out.push(y);
      j++;
    } else {
      out.push(x);
      i++;
      j++;
    }
  }
  return out;
}

/** Whether two string lists hold the same strings in the same order. */
export function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
