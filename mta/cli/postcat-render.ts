/*
 * postcat's output (pure): the records of postcat-records.ts printed as Postfix 3.7.11's postcat
 * prints a queue file (observed; reference/postfix.md §5):
 *   *** ENVELOPE RECORDS deferred/C/CDAA0213FF8 ***
 *   message_size:             385             739               2               0             385               0
 *   message_arrival_time: Fri Nov 27 20:29:00 2026
 *   create_time: Fri Nov 27 20:29:00 2026
 *   named_attribute: log_ident=CDAA0213FF8
 *   sender: alice@virt.test
 *   original_recipient: / recipient: / done_recipient:
 *   *** MESSAGE CONTENTS deferred/C/CDAA0213FF8 ***
 *   …the message…
 *   *** HEADER EXTRACTED deferred/C/CDAA0213FF8 ***
 *   *** MESSAGE FILE END deferred/C/CDAA0213FF8 ***
 * -e/-h/-b select envelope, header (up to, not including, the empty line) and body (from the empty
 * line on); without any of them all three are printed. The `***` section lines appear only when
 * the envelope is printed. -o prefixes `%9d ` offsets (each piece of a long line on its own line) (not on the ENVELOPE RECORDS line); -v
 * prefixes content lines with `regular_text: `; -d prefixes each record with its decimal type
 * as `%3d `; -s OFFSET skips records before OFFSET. -r (file order) changes nothing: the synthetic
 * file has no pointer records.
 */
import { asctime } from '../showq/format.js';
import type { PcKind, PcRecord } from './postcat-records.js';

export interface PostcatOptions {
  envelope: boolean;
  header: boolean;
  body: boolean;
  offsets: boolean;
  verbose: boolean;
  decimal: boolean;
  startOffset: number;
}

const TYPE_CHAR: Record<PcKind, string> = {
  size: 'C', time: 'T', attr: 'A', sender: 'S', orcpt: 'O', rcpt: 'R', done: 'D', filter: 'L',
  mesg: 'M', norm: 'N', cont: 'L', xtra: 'X', end: 'E',
};

function labelled(r: PcRecord): string {
  switch (r.kind) {
    case 'size':
      return `message_size: ${r.payload}`;
    case 'time':
      return `message_arrival_time: ${asctime(Number(r.payload.split(' ')[0]))}`;
    case 'attr': {
      const m = /^create_time=(\d+)$/.exec(r.payload);
      return m ? `create_time: ${asctime(Number(m[1]))}` : `named_attribute: ${r.payload}`;
    }
    case 'sender':
      return `sender: ${r.payload}`;
    case 'orcpt':
      return `original_recipient: ${r.payload}`;
    case 'rcpt':
      return `recipient: ${r.payload}`;
    case 'done':
      return `done_recipient: ${r.payload}`;
    case 'filter':
      return `content_filter: ${r.payload}`;
    default:
      return r.payload;
  }
}

/** Renders one message. `where` is the queue path shown in the section lines (`deferred/C/ID`). */
export function renderPostcat(records: readonly PcRecord[], where: string, o: PostcatOptions): string {
  const any = o.envelope || o.header || o.body;
  const env = any ? o.envelope : true;
  const hdr = any ? o.header : true;
  const bdy = any ? o.body : true;
  let out = '';
  const prefix = (r: PcRecord) =>
    `${o.offsets ? `${String(r.offset).padStart(9, ' ')} ` : ''}${o.decimal ? `${String(TYPE_CHAR[r.kind].charCodeAt(0)).padStart(3, ' ')} ` : ''}`;
  const section = (r: PcRecord, title: string) => {
    if (env) out += `${o.offsets ? `${String(r.offset).padStart(9, ' ')} ` : ''}*** ${title} ${where} ***\n`;
  };
  if (env) out += `*** ENVELOPE RECORDS ${where} ***\n`;
  let inHeader = true;
  let pendingCont = '';
  for (const r of records) {
    if (r.offset < o.startOffset) {
      if (r.kind === 'norm' && r.payload === '') inHeader = false;
      continue;
    }
    switch (r.kind) {
      case 'mesg':
        section(r, 'MESSAGE CONTENTS');
        continue;
      case 'xtra':
        section(r, 'HEADER EXTRACTED');
        continue;
      case 'end':
        section(r, 'MESSAGE FILE END');
        continue;
      case 'cont':
      case 'norm': {
        if (r.kind === 'norm' && r.payload === '' && inHeader && pendingCont === '') inHeader = false;
        const show = inHeader ? hdr : bdy;
        if (!show) {
          pendingCont = r.kind === 'cont' ? pendingCont + r.payload : '';
          continue;
        }
        // A long line's pieces print as one line, with the offset of its first piece; with -o
        // (and -d) every piece is a line of its own, as Postfix's postcat prints them.
        if (r.kind === 'cont' && (o.offsets || o.decimal)) {
          out += `${prefix(r)}${o.verbose ? 'regular_text: ' : ''}${r.payload}\n`;
          continue;
        }
        if (r.kind === 'cont') {
          if (pendingCont === '') out += `${prefix(r)}${o.verbose ? 'regular_text: ' : ''}`;
          pendingCont += r.payload;
          out += r.payload;
          continue;
        }
        if (pendingCont === '') out += `${prefix(r)}${o.verbose ? 'regular_text: ' : ''}`;
        pendingCont = '';
        out += `${r.payload}\n`;
        continue;
      }
      default:
        if (env) out += `${prefix(r)}${labelled(r)}\n`;
    }
  }
  return out;
}
