/*
 * FETCH attribute lists (RFC 3501 §6.4.5 and §9 `fetch-att`, RFC 3516 BINARY, RFC 7162 MODSEQ, and
 * Dovecot's extras X-GUID, SAVEDATE, EMAILID/THREADID, PREVIEW, SNIPPET) turned into typed values.
 *
 * Works on the generic arguments because Dovecot's tokenizer splits `BODY[HEADER.FIELDS (A B)]<0.9>`
 * into the atom `BODY[HEADER.FIELDS`, the list `(A B)` and the atom `]<0.9>`; this file joins them back
 * as Dovecot's imap-fetch.c does. Error texts are Dovecot's ("Unknown parameter: X", "Invalid
 * BODY[..] section", "Invalid messageset").
 * Distrusts: section numbers (bounded), partial offsets (bounded to 2^63), header-field names.
 */
import { COMMAND_TEXT, ImapSyntaxError } from './errors.js';
import { argAstring, type ImapArg } from './values.js';
import { parseSection, type SectionSpec } from './section.js';

export type SimpleFetchName =
  | 'ENVELOPE'
  | 'FLAGS'
  | 'INTERNALDATE'
  | 'RFC822'
  | 'RFC822.HEADER'
  | 'RFC822.SIZE'
  | 'RFC822.TEXT'
  | 'BODY'
  | 'BODYSTRUCTURE'
  | 'UID'
  | 'MODSEQ'
  | 'X-GUID'
  | 'X-MAILBOX'
  | 'X-REAL-UID'
  | 'X-SAVEDATE'
  | 'SAVEDATE'
  | 'EMAILID'
  | 'THREADID'
  | 'SNIPPET'
  | 'PREVIEW';

const SIMPLE: readonly string[] = [
  'ENVELOPE', 'FLAGS', 'INTERNALDATE', 'RFC822', 'RFC822.HEADER', 'RFC822.SIZE', 'RFC822.TEXT', 'BODY',
  'BODYSTRUCTURE', 'UID', 'MODSEQ', 'X-GUID', 'X-MAILBOX', 'X-REAL-UID', 'X-SAVEDATE', 'SAVEDATE',
  'EMAILID', 'THREADID', 'SNIPPET', 'PREVIEW',
];

export interface Partial {
  readonly offset: number;
  /** Undefined for Dovecot's `<offset>` form (to the end). */
  readonly length: number | undefined;
}

export type FetchAttribute =
  | { readonly type: 'simple'; readonly name: SimpleFetchName }
  | { readonly type: 'body'; readonly peek: boolean; readonly section: SectionSpec; readonly partial: Partial | undefined }
  | { readonly type: 'binary'; readonly peek: boolean; readonly part: readonly number[]; readonly partial: Partial | undefined }
  | { readonly type: 'binary.size'; readonly part: readonly number[] };

const MACROS: Record<string, SimpleFetchName[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};

/** Parses the attribute argument of FETCH: one atom/macro, or a list of attributes. */
export function parseFetchAttributes(arg: ImapArg | undefined): FetchAttribute[] {
  if (arg === undefined) throw new ImapSyntaxError(COMMAND_TEXT.invalidArguments);
  if (arg.type === 'atom') {
    const macro = MACROS[arg.value.toUpperCase()];
    if (macro) return macro.map((name) => ({ type: 'simple', name }));
    return parseAttributeItems([arg]);
  }
  if (arg.type === 'list') {
    if (arg.items.length === 0) throw new ImapSyntaxError(COMMAND_TEXT.invalidArguments);
    return parseAttributeItems(arg.items);
  }
  throw new ImapSyntaxError(COMMAND_TEXT.invalidArguments);
}

function parseAttributeItems(items: readonly ImapArg[]): FetchAttribute[] {
  const out: FetchAttribute[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (item.type !== 'atom') throw new ImapSyntaxError(COMMAND_TEXT.invalidArguments);
    let text = item.value;
    const upper = text.toUpperCase();
    const bracket = text.indexOf('[');
    if (bracket < 0) {
      if (!SIMPLE.includes(upper)) throw new ImapSyntaxError(`Unknown parameter: ${upper}`);
      out.push({ type: 'simple', name: upper as SimpleFetchName });
      continue;
    }
    let fields: string[] | undefined;
    if (!text.includes(']')) {
      // BODY[HEADER.FIELDS (A B)]: the list and the closing atom follow as separate arguments.
      const lst = items[i + 1];
      const close = items[i + 2];
      if (lst?.type !== 'list' || close?.type !== 'atom' || !close.value.startsWith(']')) {
        throw new ImapSyntaxError(sectionError(upper));
      }
      fields = lst.items.map((f) => {
        const s = argAstring(f);
        if (s === undefined) throw new ImapSyntaxError(sectionError(upper));
        return s;
      });
      text = `${text} ${close.value}`;
      i += 2;
    }
    out.push(parseBracketed(text, fields));
  }
  return out;
}

function sectionError(upper: string): string {
  return upper.startsWith('BINARY') ? COMMAND_TEXT.invalidBinarySection : COMMAND_TEXT.invalidSection;
}

function parseBracketed(text: string, fields: string[] | undefined): FetchAttribute {
  const open = text.indexOf('[');
  const close = text.lastIndexOf(']');
  const name = text.slice(0, open).toUpperCase();
  let inner = text.slice(open + 1, close);
  if (fields !== undefined) inner = inner.replace(/ $/, '');
  const rest = text.slice(close + 1);
  const err = sectionError(name);
  let partial: Partial | undefined;
  if (rest !== '') {
    const m = /^<([0-9]{1,19})(?:\.([0-9]{1,19}))?>$/.exec(rest);
    if (!m) throw new ImapSyntaxError(err);
    const length = m[2] === undefined ? undefined : Number(m[2]);
    if (length === 0) throw new ImapSyntaxError(err);
    partial = { offset: Number(m[1]), length };
  }
  switch (name) {
    case 'BODY':
    case 'BODY.PEEK': {
      const section = parseSection(inner, fields);
      if (section === undefined) throw new ImapSyntaxError(err);
      return { type: 'body', peek: name === 'BODY.PEEK', section, partial };
    }
    case 'BINARY':
    case 'BINARY.PEEK':
    case 'BINARY.SIZE': {
      if (fields !== undefined) throw new ImapSyntaxError(err);
      const part = inner === '' ? [] : inner.split('.').map(Number);
      if (inner !== '' && !/^[1-9][0-9]{0,8}(?:\.[1-9][0-9]{0,8})*$/.test(inner)) throw new ImapSyntaxError(err);
      if (name === 'BINARY.SIZE') {
        if (partial) throw new ImapSyntaxError(err);
        return { type: 'binary.size', part };
      }
      return { type: 'binary', peek: name === 'BINARY.PEEK', part, partial };
    }
    default:
      throw new ImapSyntaxError(`Unknown parameter: ${text.toUpperCase()}`);
  }
}
