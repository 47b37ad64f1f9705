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
 * A lookup of `list`'s items by UID for a caller that walks `asked` in its order and asks for each
 * of its UIDs once: a forward walk over `list` when both are in ascending UID order, else a map.
 */
export function uidFinder<T extends { readonly uid: number }>(
  list: readonly T[], asked: readonly { readonly uid: number }[],
): (uid: number) => T | undefined {
  if (!isAscending(list) || !isAscending(asked)) {
    const byUid = new Map(list.map((x) => [x.uid, x]));
    return (uid) => byUid.get(uid);
  }
  let j = 0;
  return (uid) => {
    while (j < list.length && list[j]!.uid < uid) j++;
    return j < list.length && list[j]!.uid === uid ? list[j++] : undefined;
  };
}

/**
 * The item of `list` with UID `uid`: a binary search, for a list in ascending UID order (the
 * normal case), checked by a walk when it finds nothing (a list that is not in order).
 */
export function byUidIn<T extends { readonly uid: number }>(list: readonly T[], uid: number): T | undefined {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const u = list[mid]!.uid;
    if (u === uid) return list[mid];
    if (u < uid) lo = mid + 1;
    else hi = mid - 1;
  }
  return isAscending(list) ? undefined : list.find((x) => x.uid === uid);
}

/** Whether two string lists hold the same strings in the same order. */
export function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
