/*
 * `dovecot-uidlist` parse and format (Dovecot 2.3 maildir-uidlist.c), pure functions.
 *
 * Version 3:  `3 V<uidvalidity> N<nextuid> G<guid32hex>[ <K><value>…]` then one record per message,
 *             `<uid>[ <K><value>…] :<basename>`, UIDs strictly increasing.
 * Version 1:  `1 <uidvalidity> <nextuid>` then `<uid> <basename>` (Dovecot <= 1.0, Courier's
 *             courierimapuiddb); read only, we always write version 3.
 *
 * Distrusts: the whole file (other programs and crashed writers touch it). Everything Dovecot calls
 * corruption throws UidlistSyntaxError: unknown version, uid 0, non-increasing uid, uid >= 2^32-1,
 * `/` in a basename, an extension key outside A-Z. A last line without its newline is a write in
 * progress (or a crash): it is reported in `partialTail`, never parsed.
 */

export const UIDLIST_MAX_UID = 0xfffffffe;

export interface UidlistRecord {
  readonly uid: number;
  /** Extension fields, key = one upper-case letter (S, W, P, O, G …), in file order. */
  readonly ext: ReadonlyMap<string, string>;
  /** Base filename (everything before `:2,`). */
  readonly basename: string;
}

export interface UidlistData {
  readonly version: 1 | 3;
  readonly uidValidity: number;
  /** The header's N, as written (may be lower than last uid + 1: Dovecot does not rewrite it on append). */
  readonly nextUid: number;
  readonly guid: string | undefined;
  /** Header extensions other than V, N, G, in file order. */
  readonly headerExt: ReadonlyMap<string, string>;
  readonly records: readonly UidlistRecord[];
  /** True when the file ended in the middle of a line. */
  readonly partialTail: boolean;
}

export class UidlistSyntaxError extends Error {
  override readonly name = 'UidlistSyntaxError';
  constructor(readonly lineNo: number, detail: string) {
    super(`dovecot-uidlist line ${lineNo}: ${detail}`);
  }
}

function parseUint(text: string, lineNo: number, what: string): number {
  if (!/^[0-9]+$/.test(text)) throw new UidlistSyntaxError(lineNo, `invalid ${what}: ${JSON.stringify(text)}`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n > 0xffffffff) throw new UidlistSyntaxError(lineNo, `${what} out of range`);
  return n;
}

function isExtKey(ch: string): boolean {
  return ch >= 'A' && ch <= 'Z';
}

/** The UID the next new message gets: max(N, last uid + 1). */
export function effectiveNextUid(data: Pick<UidlistData, 'nextUid' | 'records'>): number {
  const last = data.records.length > 0 ? data.records[data.records.length - 1]!.uid : 0;
  return Math.max(data.nextUid, last + 1);
}

export function parseUidlist(text: string): UidlistData {
  let body = text;
  let partialTail = false;
  if (!body.endsWith('\n')) {
    const nl = body.lastIndexOf('\n');
    if (nl < 0) throw new UidlistSyntaxError(1, 'header line incomplete');
    body = body.slice(0, nl + 1);
    partialTail = true;
  }
  const lines = body.slice(0, -1).split('\n');
  const header = lines[0]!.split(' ');
  const version = header[0];
  let uidValidity = 0;
  let nextUid = 1;
  let guid: string | undefined;
  const headerExt = new Map<string, string>();
  if (version === '3') {
    for (const tok of header.slice(1)) {
      if (tok === '') continue;
      const key = tok[0]!;
      const value = tok.slice(1);
      if (!isExtKey(key)) throw new UidlistSyntaxError(1, `invalid header key ${JSON.stringify(key)}`);
      if (key === 'V') uidValidity = parseUint(value, 1, 'uidvalidity');
      else if (key === 'N') nextUid = parseUint(value, 1, 'next uid');
      else if (key === 'G') guid = value;
      else headerExt.set(key, value);
    }
  } else if (version === '1') {
    if (header.length < 3) throw new UidlistSyntaxError(1, 'version 1 header needs uidvalidity and next uid');
    uidValidity = parseUint(header[1]!, 1, 'uidvalidity');
    nextUid = parseUint(header[2]!, 1, 'next uid');
  } else {
    throw new UidlistSyntaxError(1, `unsupported version ${JSON.stringify(version)}`);
  }
  if (uidValidity === 0) throw new UidlistSyntaxError(1, 'uidvalidity missing or 0');

  const v = version === '3' ? 3 : 1;
  return { version: v, uidValidity, nextUid, guid, headerExt, records: parseRecordLines(lines, 1, 2, v, 0), partialTail };
}

/**
 * Records from `lines[from..]` (the first of them is line `firstLineNo` of the file), each UID above
 * the one before, starting above `prevUid`.
 */
function parseRecordLines(lines: readonly string[], from: number, firstLineNo: number, version: 1 | 3, prevUid: number): UidlistRecord[] {
  const records: UidlistRecord[] = [];
  let prev = prevUid;
  for (let i = from; i < lines.length; i++) {
    const lineNo = firstLineNo + i - from;
    const line = lines[i]!;
    if (line === '') continue;
    const sp = line.indexOf(' ');
    if (sp < 0) throw new UidlistSyntaxError(lineNo, 'record without a filename');
    const uid = parseUint(line.slice(0, sp), lineNo, 'uid');
    if (uid === 0 || uid > UIDLIST_MAX_UID) throw new UidlistSyntaxError(lineNo, `uid ${uid} out of range`);
    if (uid <= prev) throw new UidlistSyntaxError(lineNo, `uid ${uid} not above ${prev}`);
    prev = uid;
    const ext = new Map<string, string>();
    let basename: string;
    if (version === 3) {
      const colon = line.indexOf(' :', sp - 1);
      if (colon < 0) throw new UidlistSyntaxError(lineNo, 'record without ` :<filename>`');
      for (const tok of line.slice(sp + 1, colon).split(' ')) {
        if (tok === '') continue;
        if (!isExtKey(tok[0]!)) throw new UidlistSyntaxError(lineNo, `invalid extension key ${JSON.stringify(tok[0])}`);
        ext.set(tok[0]!, tok.slice(1));
      }
      basename = line.slice(colon + 2);
    } else {
      basename = line.slice(sp + 1);
      const c = basename.indexOf(':');
      if (c >= 0) basename = basename.slice(0, c);
    }
    if (basename === '' || basename.includes('/')) throw new UidlistSyntaxError(lineNo, 'invalid filename');
    records.push({ uid, ext, basename });
  }
  return records;
}

/**
 * `data` (a parse that ended in a complete line) followed by `appended`, the complete lines written
 * after it (what a reader that remembers its offset finds when the file only grew, as Dovecot's
 * maildir-uidlist.c reads from its last offset). `firstLineNo` is the file line `appended` starts
 * at. The records of `data` are kept as they are (the same objects), so what compares or hashes
 * their base names has done so already. Throws UidlistSyntaxError as parseUidlist would for the
 * whole file.
 */
export function appendUidlistLines(data: UidlistData, appended: string, firstLineNo: number): UidlistData {
  if (data.partialTail) throw new RangeError('appendUidlistLines after a torn line');
  if (appended === '') return data;
  if (!appended.endsWith('\n')) throw new RangeError('appendUidlistLines takes complete lines');
  const last = data.records.length > 0 ? data.records[data.records.length - 1]!.uid : 0;
  const added = parseRecordLines(appended.slice(0, -1).split('\n'), 0, firstLineNo, data.version, last);
  return added.length === 0 ? data : { ...data, records: [...data.records, ...added] };
}

export interface UidlistHeader {
  readonly uidValidity: number;
  readonly nextUid: number;
  readonly guid: string | undefined;
  readonly headerExt?: ReadonlyMap<string, string>;
}

export function formatUidlistHeader(h: UidlistHeader): string {
  let line = `3 V${h.uidValidity} N${h.nextUid}`;
  if (h.guid !== undefined) line += ` G${h.guid}`;
  for (const [k, v] of h.headerExt ?? []) line += ` ${k}${v}`;
  return `${line}\n`;
}

export function formatUidlistRecord(r: UidlistRecord): string {
  if (r.basename.includes('/') || r.basename.includes('\n') || r.basename.includes(':')) {
    throw new RangeError(`invalid basename for uidlist: ${JSON.stringify(r.basename)}`);
  }
  let line = String(r.uid);
  for (const [k, v] of r.ext) line += ` ${k}${v}`;
  return `${line} :${r.basename}\n`;
}

/** A whole version-3 file; N is never written lower than last uid + 1. */
export function formatUidlist(h: UidlistHeader, records: readonly UidlistRecord[]): string {
  const nextUid = effectiveNextUid({ nextUid: h.nextUid, records });
  return formatUidlistHeader({ ...h, nextUid }) + records.map(formatUidlistRecord).join('');
}
