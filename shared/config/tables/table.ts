/*
 * The one lookup-table interface every MTA feature uses (Postfix dict(3): DICT_LOOKUP, DICT_SEQ).
 *
 * SYNCHRONOUS BY DESIGN. Every table type Postern opens today answers from memory (texthash, inline,
 * static, regexp, pcre, cidr, unix, fail) or from an index file read with positioned reads on an open
 * descriptor (lmdb, and hash/btree which we store in the same LMDB format). Postfix's own dict API is
 * blocking too. A sync lookup costs no promise allocation and no microtask hop, which matters because
 * smtpd/cleanup/trivial-rewrite run several lookups per recipient (access, canonical, virtual,
 * transport, each with its own key search order). Network-backed types (mysql, pgsql, ldap, socketmap,
 * tcp) cannot be synchronous in Node; when they arrive they will come as a separate
 * `AsyncLookupTable` (declared below) and only the call sites that accept such maps will await.
 *
 * Errors: a lookup that cannot answer (Postfix DICT_ERR_RETRY / DICT_ERR_CONFIG) throws
 * TableLookupError; callers treat that as temporary (451 / defer), never as "not found".
 */

/** One key/value pair, as `postmap -s` prints it. */
export interface TableEntry {
  readonly key: string;
  readonly value: string;
}

export interface LookupTable {
  /** Dictionary type as written in main.cf: `lmdb`, `regexp`, `proxy`… */
  readonly type: string;
  /** The part after `type:` (for proxy: the inner `type:name`). */
  readonly name: string;
  /** `type:name`, the string Postfix prints in table errors. */
  readonly spec: string;
  /**
   * Looks a key up. Returns the value, or undefined when the key is absent. Keys are lower-cased first
   * when the table folds case (Postfix DICT_FLAG_FOLD_FIX; postmap -f turns it off). Pattern tables
   * (regexp, pcre, cidr) see the key as given.
   */
  lookup(key: string): string | undefined;
  /**
   * Every entry, for `postmap -s`. Absent when the type cannot enumerate: Postfix then says
   * `table TYPE:NAME: sequence operation is not supported`.
   */
  sequence?(): Iterable<TableEntry>;
  /** True when the file behind the table changed since it was opened (Postfix dict_changed_name()). */
  changed?(): boolean;
  close(): void;
}

/** Reserved shape for network-backed types; nothing implements it yet. */
export interface AsyncLookupTable {
  readonly type: string;
  readonly name: string;
  readonly spec: string;
  lookupAsync(key: string): Promise<string | undefined>;
  close(): Promise<void> | void;
}

/** Options shared by every table opener. */
export interface OpenTableOptions {
  /** Lower-case keys at lookup (and, for indexes, at creation). Default true; postmap -f sets false. */
  fold?: boolean;
  /** Receives parse-time warnings in Postfix wording (`FILE, line N: …`); default drops them. */
  warn?: (msg: string) => void;
  /** Where `unix:passwd.byname` reads accounts (tests point it elsewhere). Default /etc/passwd. */
  passwdFile?: string;
  /**
   * Indexed tables: whether keys carry Postfix's trailing NUL (postmap -N / -n). Default: write with
   * NUL, look up with then without (Postfix DICT_FLAG_TRY1NULL | DICT_FLAG_TRY0NULL).
   */
  nul?: 'with' | 'without';
}

/**
 * Postfix's key folding: lower-case (UTF-8 aware, as util_utf8_enable/casefold does for Postfix ≥ 3.0
 * with smtputf8_enable=yes). JS toLowerCase is not ICU case folding; the two differ for a handful of
 * non-ASCII letters (e.g. German ß stays ß in both, final sigma may differ).
 */
export function foldKey(key: string): string {
  return key.toLowerCase();
}
