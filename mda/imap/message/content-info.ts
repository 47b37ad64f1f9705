/*
 * The Content-* facts of one MIME part, gathered as Dovecot 2.3's message-part-data.c does: the
 * first Content-Type/-Transfer-Encoding/-ID/-Description/-MD5/-Language/-Location wins, while
 * Content-Disposition is re-read as long as no disposition parameters were found; everything is
 * forgotten when the part is not MIME (no MIME-Version and no Content-Type, outside a multipart).
 * Distrusts: header values of any shape (parsed leniently, never thrown on).
 */
import type { HeaderBlock } from './header.js';
import { parseContentLanguage, parseContentType, parseTokenWithParams, parseTransferEncoding, type MimeParam } from './content-fields.js';

export interface ContentInfo {
  readonly isMime: boolean;
  /** Undefined when no usable Content-Type: then text/plain (or message/rfc822 under a digest). */
  readonly type: string | undefined;
  readonly subtype: string | undefined;
  readonly params: readonly MimeParam[];
  readonly encoding: string | undefined;
  readonly id: string | undefined;
  readonly description: string | undefined;
  readonly md5: string | undefined;
  readonly disposition: string | undefined;
  readonly dispositionParams: readonly MimeParam[];
  readonly language: readonly string[] | undefined;
  readonly location: string | undefined;
  /** Default type under multipart/digest. */
  readonly messageRfc822: boolean;
}

export function readContentInfo(h: HeaderBlock, parentMultipart: boolean, parentDigest: boolean): ContentInfo {
  let isMime = parentMultipart;
  let type: string | undefined;
  let subtype: string | undefined;
  let params: readonly MimeParam[] = [];
  let seenType = false;
  let encoding: string | undefined;
  let id: string | undefined;
  let description: string | undefined;
  let md5: string | undefined;
  let disposition: string | undefined;
  let dispositionParams: readonly MimeParam[] = [];
  let language: string[] | undefined;
  let location: string | undefined;
  for (const f of h.fields) {
    const name = f.name.toLowerCase();
    if (name === 'mime-version') isMime = true;
    if (!name.startsWith('content-')) continue;
    const v = f.value;
    switch (name.slice(8)) {
      case 'type':
        isMime = true;
        if (!seenType) {
          seenType = true;
          const ct = parseContentType(v);
          type = ct.type;
          subtype = ct.subtype;
          params = ct.params;
        }
        break;
      case 'transfer-encoding':
        if (encoding === undefined) encoding = parseTransferEncoding(v);
        break;
      case 'id':
        if (id === undefined) id = v;
        break;
      case 'description':
        if (description === undefined) description = v;
        break;
      case 'md5':
        if (md5 === undefined) md5 = v;
        break;
      case 'disposition':
        if (dispositionParams.length === 0) {
          const d = parseTokenWithParams(v);
          if (d.token !== undefined) {
            disposition = d.token;
            dispositionParams = d.params;
          }
        }
        break;
      case 'language':
        if (language === undefined) {
          const l = parseContentLanguage(v);
          if (l.length > 0) language = l;
        }
        break;
      case 'location':
        if (location === undefined) location = v;
        break;
    }
  }
  const noType = type === undefined;
  const messageRfc822 = parentDigest && (!isMime || noType);
  if (!isMime) {
    return { isMime, type: undefined, subtype: undefined, params: [], encoding: undefined, id: undefined, description: undefined, md5: undefined, disposition: undefined, dispositionParams: [], language: undefined, location: undefined, messageRfc822 };
  }
  return { isMime, type: noType ? undefined : type, subtype, params, encoding, id, description, md5, disposition, dispositionParams, language, location, messageRfc822 };
}
