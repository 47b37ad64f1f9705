/*
 * The maildrop file format shared by sendmail (writer) and pickup (reader) — Postern's own, the
 * role of Postfix's postdrop records (pure):
 *
 *   POSTERN-MAILDROP 1\n
 *   name: value\n ...        (uid, sender, fullname, rcpt (repeated), notify, ret, envid, extract,
 *                             body_type; values %-escaped for %, CR and LF)
 *   \n
 *   <message content as submitted>
 *   POSTERN-MAILDROP-END <content length>\n    (trailer: a file without it is incomplete)
 *
 * Distrusts the file (any local user can submit): every field is validated on read, unknown
 * fields are rejected, and a missing or wrong trailer marks the file incomplete.
 */
import type { DsnNotify, DsnRet } from '../queue/types.js';
import type { BodyType } from '../cleanup/api.js';

export const MAGIC = 'POSTERN-MAILDROP 1';
export const TRAILER = 'POSTERN-MAILDROP-END';

export interface MaildropEnvelope {
  uid: number;
  sender: string;
  fullName?: string;
  recipients: string[];
  notify?: DsnNotify[];
  ret?: DsnRet;
  envid?: string;
  extract: boolean;
  bodyType?: BodyType;
}

export class MaildropFormatError extends Error {
  override readonly name = 'MaildropFormatError';
}

const esc = (v: string): string => v.replace(/[%\r\n]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`);
const unesc = (v: string): string => v.replace(/%([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16)));

export function encodeEnvelope(e: MaildropEnvelope): Buffer {
  const lines = [MAGIC, `uid: ${e.uid}`, `sender: ${esc(e.sender)}`];
  if (e.fullName !== undefined) lines.push(`fullname: ${esc(e.fullName)}`);
  for (const r of e.recipients) lines.push(`rcpt: ${esc(r)}`);
  if (e.notify) lines.push(`notify: ${e.notify.join(',')}`);
  if (e.ret) lines.push(`ret: ${e.ret}`);
  if (e.envid !== undefined) lines.push(`envid: ${esc(e.envid)}`);
  if (e.extract) lines.push('extract: yes');
  if (e.bodyType) lines.push(`body_type: ${e.bodyType}`);
  return Buffer.from(`${lines.join('\n')}\n\n`, 'utf8');
}

export function encodeTrailer(contentLength: number): Buffer {
  return Buffer.from(`${TRAILER} ${contentLength}\n`);
}

const NOTIFY = new Set(['NEVER', 'SUCCESS', 'FAILURE', 'DELAY']);

/** Parses a whole maildrop file: the envelope and the content's byte range. */
export function decodeMaildrop(file: Buffer): { envelope: MaildropEnvelope; contentStart: number; contentEnd: number } {
  const sep = file.indexOf('\n\n');
  if (sep < 0) throw new MaildropFormatError('no envelope');
  const lines = file.subarray(0, sep).toString('utf8').split('\n');
  if (lines[0] !== MAGIC) throw new MaildropFormatError('not a maildrop file');
  const tEnd = file.length - 1;
  if (file[tEnd] !== 0x0a) throw new MaildropFormatError('incomplete file');
  const tStart = file.lastIndexOf(0x0a, tEnd - 1) + 1;
  const trailer = file.subarray(tStart, tEnd).toString('latin1');
  const m = new RegExp(`^${TRAILER} (\\d+)$`).exec(trailer);
  const contentStart = sep + 2;
  if (!m || Number(m[1]) !== tStart - contentStart) throw new MaildropFormatError('incomplete file');
  const e: MaildropEnvelope = { uid: -1, sender: '', recipients: [], extract: false };
  let haveSender = false;
  for (const line of lines.slice(1)) {
    const i = line.indexOf(': ');
    if (i < 0) throw new MaildropFormatError(`bad line: ${line.slice(0, 40)}`);
    const k = line.slice(0, i);
    const v = unesc(line.slice(i + 2));
    switch (k) {
      case 'uid':
        if (!/^\d+$/.test(v)) throw new MaildropFormatError('bad uid');
        e.uid = Number(v);
        break;
      case 'sender':
        e.sender = v;
        haveSender = true;
        break;
      case 'fullname':
        e.fullName = v;
        break;
      case 'rcpt':
        e.recipients.push(v);
        break;
      case 'notify': {
        const n = v.split(',');
        if (!n.every((x) => NOTIFY.has(x))) throw new MaildropFormatError('bad notify');
        e.notify = n as DsnNotify[];
        break;
      }
      case 'ret':
        if (v !== 'FULL' && v !== 'HDRS') throw new MaildropFormatError('bad ret');
        e.ret = v;
        break;
      case 'envid':
        e.envid = v;
        break;
      case 'extract':
        e.extract = v === 'yes';
        break;
      case 'body_type':
        if (v !== '7BIT' && v !== '8BITMIME' && v !== 'BINARYMIME') throw new MaildropFormatError('bad body_type');
        e.bodyType = v;
        break;
      default:
        throw new MaildropFormatError(`unknown field: ${k}`);
    }
  }
  if (e.uid < 0 || !haveSender) throw new MaildropFormatError('missing uid or sender');
  return { envelope: e, contentStart, contentEnd: tStart };
}
