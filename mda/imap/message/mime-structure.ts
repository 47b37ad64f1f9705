/*
 * The MIME tree of a raw message, with the offsets Dovecot 2.3's message-parser.c would find:
 *  - a part is a header (ending at, and including, its blank line) and a body;
 *  - a multipart's body is cut by lines starting with `--boundary` for its own boundary or any
 *    enclosing one (an enclosing boundary ends every inner part at once); the line break before a
 *    boundary line belongs to the boundary, not to the part; `--boundary--` ends the children and the
 *    rest (epilogue) stays in the multipart's body;
 *  - message/rfc822 holds one child message; a child of multipart/digest without Content-Type is a
 *    message/rfc822;
 *  - Content-* headers count only when the part is MIME (MIME-Version or Content-Type present, or the
 *    parent is a multipart), else the part is text/plain;
 *  - nesting deeper than Dovecot's max_nested_mime_parts (100) and more than 10000 parts are not
 *    split further: the part is kept as an opaque body.
 * Distrusts: missing/mismatched boundaries, boundaries that are prefixes of others, unterminated
 * headers, absurd nesting (bounded), LF-only and mixed line ends.
 */
import { parseHeader, type HeaderBlock } from './header.js';
import { readContentInfo, type ContentInfo } from './content-info.js';

export const MAX_NESTED_PARTS = 100;
export const MAX_TOTAL_PARTS = 10000;
const BOUNDARY_MAX_LEN = 80;

export interface MimePart {
  readonly headerStart: number;
  readonly bodyStart: number;
  readonly bodyEnd: number;
  readonly header: HeaderBlock;
  readonly info: ContentInfo;
  readonly kind: 'multipart' | 'message' | 'leaf';
  readonly children: readonly MimePart[];
}

interface Found {
  lineStart: number;
  lineEnd: number;
  /** Index in the boundary stack. */
  index: number;
  end: boolean;
}

interface Ctx {
  msg: string;
  parts: number;
}

/** Parses the whole message (a byte string). */
export function parseMime(msg: string): MimePart {
  const ctx: Ctx = { msg, parts: 0 };
  return parsePart(ctx, 0, msg.length, [], 'none', 0).part;
}

function findBoundary(msg: string, from: number, end: number, stack: readonly string[]): Found | undefined {
  if (stack.length === 0) return undefined;
  let pos = from;
  while (pos < end) {
    if (msg.startsWith('--', pos)) {
      for (let i = stack.length - 1; i >= 0; i--) {
        const b = stack[i]!;
        if (msg.startsWith(b, pos + 2) && pos + 2 + b.length <= end) {
          let lf = msg.indexOf('\n', pos);
          if (lf < 0 || lf >= end) lf = end - 1;
          const isEnd = msg.startsWith('--', pos + 2 + b.length);
          return { lineStart: pos, lineEnd: lf + 1, index: i, end: isEnd };
        }
      }
    }
    const lf = msg.indexOf('\n', pos);
    if (lf < 0 || lf >= end) return undefined;
    pos = lf + 1;
  }
  return undefined;
}

/** Body end for a part whose body runs up to a boundary line at `lineStart`. */
function endBefore(msg: string, bodyStart: number, lineStart: number): number {
  let e = lineStart;
  if (e > bodyStart && msg[e - 1] === '\n') {
    e--;
    if (e > bodyStart && msg[e - 1] === '\r') e--;
  }
  return e;
}

type ParentKind = 'none' | 'multipart' | 'digest' | 'message';

interface Result {
  part: MimePart;
  /** The boundary line that ended this part (if any). */
  term: Found | undefined;
}

function parsePart(ctx: Ctx, start: number, end: number, stack: string[], parent: ParentKind, depth: number): Result {
  const msg = ctx.msg;
  ctx.parts++;
  // A boundary can end a part even inside its header.
  const headerLimit = findBoundary(msg, start, end, stack);
  const header = parseHeader(msg, start, headerLimit ? headerLimit.lineStart : end);
  const bodyStart = start + header.size;
  const info = readContentInfo(header, parent === 'multipart' || parent === 'digest', parent === 'digest');
  const type = info.type?.toLowerCase();
  const subtype = info.subtype?.toLowerCase();
  const tooDeep = depth >= MAX_NESTED_PARTS || ctx.parts >= MAX_TOTAL_PARTS;
  if (headerLimit && headerLimit.lineStart < bodyStart + 0 && !header.hasEnd) {
    // the header ran into a boundary: empty body
  }
  if (!tooDeep && info.isMime && type === 'multipart') {
    const boundary = info.params.find((p) => p.name.toLowerCase() === 'boundary')?.value;
    if (boundary !== undefined) return parseMultipart(ctx, start, bodyStart, end, stack, header, info, boundary.slice(0, BOUNDARY_MAX_LEN), subtype === 'digest', depth);
    return leaf(ctx, start, bodyStart, end, stack, header, info, 'multipart');
  }
  if (!tooDeep && (info.messageRfc822 || (info.isMime && type === 'message' && subtype === 'rfc822'))) {
    const child = parsePart(ctx, bodyStart, end, stack, 'message', depth + 1);
    // The message ends where its child does: a line break before the next boundary is kept when it
    // ends a header line or an end-boundary line, as in Dovecot.
    const bodyEnd = child.part.bodyEnd;
    const part: MimePart = { headerStart: start, bodyStart, bodyEnd: Math.max(bodyEnd, bodyStart), header, info, kind: 'message', children: [child.part] };
    return { part, term: child.term };
  }
  return leaf(ctx, start, bodyStart, end, stack, header, info, 'leaf');
}

function leaf(ctx: Ctx, start: number, bodyStart: number, end: number, stack: string[], header: HeaderBlock, info: ContentInfo, kind: 'leaf' | 'multipart'): Result {
  const term = findBoundary(ctx.msg, bodyStart, end, stack);
  const bodyEnd = term ? endBefore(ctx.msg, bodyStart, term.lineStart) : end;
  return { part: { headerStart: start, bodyStart, bodyEnd: Math.max(bodyEnd, bodyStart), header, info, kind, children: [] }, term };
}

function parseMultipart(ctx: Ctx, start: number, bodyStart: number, end: number, outer: string[], header: HeaderBlock, info: ContentInfo, boundary: string, digest: boolean, depth: number): Result {
  const msg = ctx.msg;
  const stack = [...outer, boundary];
  const mine = stack.length - 1;
  const children: MimePart[] = [];
  let f = findBoundary(msg, bodyStart, end, stack);
  let term: Found | undefined;
  while (f && f.index === mine && !f.end) {
    if (ctx.parts >= MAX_TOTAL_PARTS) {
      f = undefined;
      break;
    }
    const child = parsePart(ctx, f.lineEnd, end, stack, digest ? 'digest' : 'multipart', depth + 1);
    children.push(child.part);
    f = child.term;
  }
  let bodyEnd: number;
  if (f && f.index === mine && f.end) {
    // Epilogue: up to an enclosing boundary; the end-boundary line keeps its own line break.
    term = findBoundary(msg, f.lineEnd, end, outer);
    bodyEnd = term ? endBefore(msg, f.lineEnd, term.lineStart) : end;
  } else {
    term = f;
    const last = children[children.length - 1];
    bodyEnd = last ? last.bodyEnd : term ? endBefore(msg, bodyStart, term.lineStart) : end;
  }
  return { part: { headerStart: start, bodyStart, bodyEnd: Math.max(bodyEnd, bodyStart), header, info, kind: 'multipart', children }, term };
}
