/*
 * cleanup(8) as a service: the streaming adapter that implements the Cleanup seam (api.ts) over
 * the pure pieces (headers.ts, header-checks.ts, added-headers.ts, envelope.ts) and the durable
 * queue (mta/queue/store.ts).
 *
 * Content is read line by line (content-lines.ts); header lines are held one logical field at a
 * time (bounded by header_size_limit), body lines pass through as fragments of at most
 * line_length_limit bytes. Stored content has CRLF line ends. The output is the list of chunks
 * QueueStore.enqueue stores segment by segment; past message_size_limit nothing more is kept,
 * the input is drained and the message is refused (`552 5.3.4 Message size exceeds fixed
 * limit`), so nothing reaches the queue. Missing Message-Id/Date/From are added for local
 * submissions and for clients in local_header_rewrite_clients (or always_add_missing_headers), as
 * Postfix ≥ 2.6 does; otherwise a message without Message-Id is logged as `message-id=<>`.
 * smtpd's access-policy HOLD and DISCARD (IncomingMessage.policyActions) park the message in the
 * hold queue or drop it, as header_checks HOLD and DISCARD do.
 * Return-Path and Content-Length fields are removed (Postfix HDR_OPT_DROP); Bcc is removed when
 * recipients are extracted from the header (sendmail -t).
 * Distrusts the content: limits on every dimension, 8-bit bytes kept as they are.
 */
import { SmtpError, reply, type SmtpReply } from '../../shared/proto/smtp-reply.js';
import { openTable } from '../../shared/config/tables/registry.js';
import type { LookupTable } from '../../shared/config/tables/table.js';
import type { Log } from '../../shared/log/logger.js';
import { hostAddr, mtaEvents, type CleanupLogContext } from '../log-events.js';
import type { QueueStore } from '../queue/store.js';
import type { MessageAttributes, NewEnvelope } from '../queue/types.js';
import type { Cleanup, CleanupResult, IncomingMessage, IncomingRecipient } from './api.js';
import type { CleanupAddressMaps } from './address-maps.js';
import { extractAddresses } from './address-list.js';
import { fromHeader, generatedMessageId, receivedHeader } from './added-headers.js';
import { asChunks, LineSplitter, type LineFragment } from './content-lines.js';
import { buildRecipients, EnvelopeTempError, rewriteSender } from './envelope.js';
import { checkHeader, type HeaderAction } from './header-checks.js';
import { fieldName, fieldText, fieldValue, HeaderAccumulator, makeField, serializeField, type HeaderField } from './headers.js';
import { isLocalHeaderClient } from './rewrite-context.js';
import type { CleanupSettings } from './settings.js';
import { mailDate } from './mail-date.js';

export interface CleanupDeps {
  store: Pick<QueueStore, 'allocateId' | 'enqueue'>;
  settings: CleanupSettings;
  maps: CleanupAddressMaps;
  log: Log;
  /** header_checks tables; opened from settings.headerChecks when absent. */
  headerChecks?: readonly LookupTable[];
  now?: () => Date;
  /** Local interface addresses for permit_inet_interfaces (default: from os.networkInterfaces). */
  interfaceAddresses?: readonly string[];
}

const CRLF = Buffer.from('\r\n');
const SIZE_REPLY = reply(552, '5.3.4', 'Message size exceeds fixed limit');
const HOPS_REPLY = reply(554, '5.4.0', 'Error: too many hops');
const NORCPT_REPLY = reply(550, '5.1.0', 'Error: no recipients specified');
const TEMP_REPLY = reply(451, '4.3.0', 'Error: queue file write error');

const DROPPED = new Set(['return-path', 'content-length']);
const EXTRACT = new Set(['to', 'cc', 'bcc']);

export function createCleanup(deps: CleanupDeps): Cleanup {
  const tables = deps.headerChecks ?? deps.settings.headerChecks.map((spec) => openTable(spec, { warn: (m) => deps.log.warn(m) }));
  return {
    allocateQueueId: () => deps.store.allocateId(),
    submit: (message, content) => runCleanup(deps, tables, message, content),
  };
}

/** Per-message state of one run. */
interface Run {
  out: Buffer[];
  size: number;
  overflow: boolean;
  reject?: SmtpReply;
  discard?: boolean;
  hold?: boolean;
  filter?: string;
  redirect?: string;
  bcc: string[];
  hops: number;
  seen: Set<string>;
  messageId?: string;
  extracted: IncomingRecipient[];
  /** Index in `out` of the empty line ending the header (the milters need the fields apart). */
  headerEnd: number;
}

async function runCleanup(
  deps: CleanupDeps,
  tables: readonly LookupTable[],
  msg: IncomingMessage,
  content: Parameters<Cleanup['submit']>[1],
): Promise<CleanupResult> {
  const s = deps.settings;
  const now = (deps.now ?? (() => new Date()))();
  const queueId = msg.queueId ?? deps.store.allocateId();
  const r: Run = { out: [], size: 0, overflow: false, bcc: [], hops: 0, seen: new Set(), extracted: [], headerEnd: 0 };
  const ctx: CleanupLogContext = {
    from: msg.sender,
    ...(msg.client ? { client: hostAddr(msg.client.name, msg.client.addr), proto: msg.client.protocol } : {}),
    ...(msg.recipients[0] ? { to: msg.recipients[0].address } : {}),
    ...(msg.client?.helo !== undefined ? { helo: msg.client.helo } : {}),
  };
  const emit = (b: Buffer): void => {
    if (r.overflow || r.reject) return;
    r.out.push(b);
  };

  const onField = (f: HeaderField): void => {
    if (r.reject || r.overflow) return;
    const lname = f.name.toLowerCase();
    if (lname === 'received' && ++r.hops >= s.hopcountLimit) {
      r.reject = HOPS_REPLY;
      return;
    }
    const action: HeaderAction = tables.length > 0 ? checkHeader(tables, fieldText(f)) : { kind: 'none' };
    let field: HeaderField | undefined = f;
    switch (action.kind) {
      case 'reject':
        r.reject = reply(action.dsn.startsWith('4') ? 451 : 550, action.dsn, action.text);
        deps.log.info(mtaEvents.cleanup.headerAction(queueId, 'reject', fieldText(f), ctx, `${action.dsn} ${action.text}`));
        return;
      case 'discard':
        r.discard = true;
        deps.log.info(mtaEvents.cleanup.headerAction(queueId, 'discard', fieldText(f), ctx, action.text));
        break;
      case 'hold':
        r.hold = true;
        deps.log.info(mtaEvents.cleanup.headerAction(queueId, 'hold', fieldText(f), ctx, action.text));
        break;
      case 'warn':
        deps.log.info(mtaEvents.cleanup.headerAction(queueId, 'warning', fieldText(f), ctx, action.text));
        break;
      case 'ignore':
        field = undefined;
        break;
      case 'prepend':
        emit(serializeField(makeField(action.header)));
        break;
      case 'replace':
        field = makeField(action.header);
        break;
      case 'filter':
        r.filter = action.destination;
        deps.log.info(mtaEvents.cleanup.headerAction(queueId, 'filter', fieldText(f), ctx, action.destination));
        break;
      case 'redirect':
        r.redirect = action.address;
        deps.log.info(mtaEvents.cleanup.headerAction(queueId, 'redirect', fieldText(f), ctx, action.address));
        break;
      case 'bcc':
        r.bcc.push(action.address);
        break;
      case 'invalid':
        deps.log.warn(`header_checks: ${action.warning}`);
        break;
      case 'none':
        break;
    }
    if (field === undefined) return;
    const fname = field.name.toLowerCase();
    if (DROPPED.has(fname)) return;
    if (msg.extractRecipients && EXTRACT.has(fname)) {
      for (const a of extractAddresses(fieldValue(field))) r.extracted.push({ address: a });
      if (fname === 'bcc') return;
    }
    r.seen.add(fname);
    if (fname === 'message-id' && r.messageId === undefined) r.messageId = fieldValue(field);
    emit(serializeField(field));
  };

  const addMissing = (): void => {
    const local = msg.origin !== 'smtpd' || s.alwaysAddMissingHeaders || isLocalHeaderClient(msg.client, s, deps.interfaceAddresses);
    if (local && msg.origin !== 'requeue') {
      if (!r.seen.has('message-id')) {
        r.messageId = generatedMessageId(queueId, s.myhostname, now, s.longQueueIds);
        emit(serializeField(makeField(`Message-Id: ${r.messageId}`)));
      }
      if (!r.seen.has('date')) emit(serializeField(makeField(`Date: ${mailDate(now)}`)));
      if (!r.seen.has('from')) {
        const sender = msg.sender === '' ? '' : deps.maps.qualify(msg.sender);
        emit(serializeField(makeField(fromHeader(sender, msg.fullName))));
      }
    }
    if (!r.reject && !r.overflow) deps.log.info(mtaEvents.cleanup.messageId(queueId, r.messageId ?? '<>'));
  };

  // Reading: the Received field first (it passes header processing like any other field).
  const received = receivedHeader({
    origin: msg.origin,
    myhostname: s.myhostname,
    mailName: s.mailName,
    queueId,
    date: now,
    recipients: msg.recipients.map((x) => x.address),
    ...(msg.client ? { client: msg.client } : {}),
    ...(msg.localUid !== undefined ? { localUid: msg.localUid } : {}),
  });
  // smtpd's PREPEND headers come first, above our Received: (observed with Postfix 3.7.11), and go
  // through header processing like the message's own.
  for (const h of msg.prependHeaders ?? []) {
    try {
      onField(makeField(h));
    } catch {
      deps.log.warn(`${queueId}: ignoring malformed PREPEND header: ${h.slice(0, 100)}`);
    }
  }
  if (received !== undefined) onField(makeField(received));

  const acc = new HeaderAccumulator(s.headerSizeLimit);
  let inHeader = true;
  let bodyLineOpen = false;
  let longHeaderLine: Buffer | undefined;
  const counted = countBytes(asChunks(content as AsyncIterable<Uint8Array> | Uint8Array), s.messageSizeLimit, () => {
    r.overflow = true;
    r.out = [];
  });
  const onFragment = (frag: LineFragment): void => {
    if (r.overflow || r.reject) return; // drain: the client must finish sending before it is told
    if (inHeader) {
      // A header line longer than the fragment bound is already over header_size_limit: its
      // first fragment is kept (the accumulator cuts it) and the rest of the line dropped.
      if (!frag.eol) {
        longHeaderLine ??= frag.data;
        return;
      }
      const line = longHeaderLine ?? frag.data;
      longHeaderLine = undefined;
      const res = acc.feed(line);
      if (res.completed) onField(res.completed);
      if (res.kind === 'end') {
        inHeader = false;
        addMissing();
        r.headerEnd = r.out.length;
        emit(CRLF);
        if (res.bodyLine) {
          emit(res.bodyLine);
          emit(CRLF);
        }
      }
      return;
    }
    if (bodyLineOpen || frag.data.length > 0) emit(frag.data);
    bodyLineOpen = !frag.eol;
    if (frag.eol) emit(CRLF);
  };
  const split = new LineSplitter(() => (inHeader ? s.headerSizeLimit + 1 : s.lineLengthLimit));
  try {
    for await (const chunk of counted) for (const frag of split.push(chunk)) onFragment(frag);
    for (const frag of split.end()) onFragment(frag);
  } catch (err) {
    return { kind: 'rejected', reply: err instanceof SmtpError ? err.reply : TEMP_REPLY };
  }
  if (inHeader && !r.overflow && !r.reject) {
    const last = acc.finish();
    if (last) onField(last);
    addMissing();
    r.headerEnd = r.out.length;
    emit(CRLF);
  }
  if (r.overflow) return { kind: 'rejected', reply: SIZE_REPLY };
  if (r.reject) return { kind: 'rejected', reply: r.reject };
  // smtpd's DISCARD action (already logged by smtpd) drops the message like header_checks DISCARD.
  if (r.discard || msg.policyActions?.discard !== undefined) return { kind: 'discarded', queueId };

  // smtpd_milters: the whole message, before the envelope is rewritten (added recipients are
  // rewritten like the others) and before anything is committed.
  let envSender = msg.sender;
  let envRecipients: IncomingRecipient[] = [...msg.recipients, ...r.extracted];
  if (msg.milters) {
    const m = await runMilters(deps, msg, r, received, envRecipients, queueId, ctx);
    if (m.kind !== 'continue') return m.kind === 'discard' ? { kind: 'discarded', queueId } : { kind: 'rejected', reply: m.reply };
    envSender = m.sender;
    envRecipients = m.recipients;
    if (m.hold) r.hold = true;
  }

  // The envelope.
  let recipients: NewEnvelope['recipients'];
  let sender: string;
  try {
    sender = rewriteSender(deps.maps, envSender);
    const incoming = envRecipients;
    recipients = buildRecipients(deps.maps, sender, incoming, {
      alwaysBcc: s.alwaysBcc,
      duplicateFilterLimit: s.duplicateFilterLimit,
      ...(r.redirect !== undefined ? { redirect: r.redirect } : {}),
      extraBcc: r.bcc,
    });
  } catch (err) {
    const detail = err instanceof EnvelopeTempError ? err.message : (err as Error).message;
    deps.log.warn(`${queueId}: address rewriting failed: ${detail}`);
    return { kind: 'rejected', reply: TEMP_REPLY };
  }
  if (recipients.length === 0) return { kind: 'rejected', reply: NORCPT_REPLY };

  const env: NewEnvelope = {
    id: queueId,
    sender,
    recipients,
    attrs: attributesOf(msg, r.filter),
    ...(msg.envid !== undefined ? { envid: msg.envid } : {}),
    ...(msg.ret !== undefined ? { ret: msg.ret } : {}),
    ...(r.hold || msg.policyActions?.hold !== undefined ? { queue: 'hold' as const } : {}),
  };
  try {
    // DURABILITY: enqueue resolves only after the LMDB commit holding envelope and content is
    // fsync'd; returning `queued` is what lets smtpd answer 250 and pickup delete the maildrop
    // file. Crash window: between that fsync and the caller's acknowledgement the message is in
    // the queue but the sender may retry, so it can be delivered twice, never lost.
    const rec = await deps.store.enqueue(env, r.out);
    return { kind: 'queued', queueId, size: rec.size };
  } catch (err) {
    const withReply = err as { reply?: SmtpReply; message?: string };
    deps.log.warn(`${queueId}: ${withReply.message ?? String(err)}`);
    return { kind: 'rejected', reply: withReply.reply ?? TEMP_REPLY };
  }
}

/**
 * Hands the finished message to the milters and logs their end-of-message verdict as Postfix's
 * cleanup does; on `continue` the (possibly edited) header and body replace `r.out`.
 */
async function runMilters(
  deps: CleanupDeps,
  msg: IncomingMessage,
  r: Run,
  receivedText: string | undefined,
  recipients: IncomingRecipient[],
  queueId: string,
  ctx: CleanupLogContext,
): Promise<{ kind: 'continue'; sender: string; recipients: IncomingRecipient[]; hold: boolean } | { kind: 'discard' } | { kind: 'reject'; reply: SmtpReply }> {
  const headers = r.out.slice(0, r.headerEnd).map((b) => {
    let raw = b.subarray(0, b.length - 2);
    if (raw.includes(0x0d)) raw = Buffer.from(raw.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    return { name: fieldName(raw) ?? '', raw };
  });
  const body = Buffer.concat(r.out.slice(r.headerEnd + 1));
  const ownRaw = receivedText === undefined ? undefined : makeField(receivedText).raw;
  const own = ownRaw === undefined ? undefined : headers.find((h) => h.raw.equals(ownRaw));
  let out;
  try {
    out = await msg.milters!({
      sender: msg.sender,
      recipients: recipients.map((x) => ({ address: x.address, original: x.address, ...(x.orcpt !== undefined ? { orcpt: x.orcpt } : {}), ...(x.notify ? { notify: x.notify } : {}) })),
      headers,
      ...(own !== undefined ? { ownReceived: own } : {}),
      body,
    });
  } catch (err) {
    deps.log.warn(`${queueId}: milter: ${(err as Error).message}`);
    return { kind: 'reject', reply: TEMP_REPLY };
  }
  if (out.kind === 'reject') {
    const text = `${out.reply.enhanced !== undefined ? `${out.reply.enhanced} ` : ''}${out.reply.text.replaceAll('\n', ' ')}`;
    deps.log.info(mtaEvents.cleanup.milterAction(queueId, 'milter-reject', ctx, text));
    return out;
  }
  if (out.kind === 'discard') {
    deps.log.info(mtaEvents.cleanup.milterAction(queueId, 'milter-discard', ctx, 'milter triggers DISCARD action'));
    return out;
  }
  for (const w of out.warnings) deps.log.warn(`${queueId}: ${w}`);
  // Logged with the sender the milters left (observed 3.7.11: from=<CHGFROM's address>).
  if (out.hold !== undefined) deps.log.info(mtaEvents.cleanup.milterAction(queueId, 'milter-hold', { ...ctx, from: out.sender }, 'milter triggers HOLD action'));
  r.out = [...out.headers.map((h) => serializeField({ name: h.name, raw: h.raw, truncated: false })), CRLF, out.body];
  return {
    kind: 'continue',
    sender: out.sender,
    recipients: out.recipients.map((x) => ({
      address: x.address,
      ...(x.orcpt !== undefined ? { orcpt: x.orcpt } : {}),
      ...(x.notify ? { notify: [...x.notify] as NonNullable<IncomingRecipient['notify']> } : {}),
    })),
    hold: out.hold !== undefined,
  };
}

function attributesOf(msg: IncomingMessage, filter: string | undefined): MessageAttributes {
  const a: MessageAttributes = { origin: msg.origin };
  const c = msg.client;
  if (c) {
    a.client_name = c.name;
    a.client_address = c.addr;
    if (c.port !== undefined) a.client_port = String(c.port);
    if (c.helo !== undefined) a.helo_name = c.helo;
    a.protocol = c.protocol;
    if (c.sasl) {
      a.sasl_method = c.sasl.method;
      a.sasl_username = c.sasl.username;
    }
  } else if (msg.origin === 'pickup') {
    a.protocol = 'local';
  }
  if (msg.localUid !== undefined) a.uid = String(msg.localUid);
  if (msg.bodyType !== undefined) a.body_type = msg.bodyType;
  if (msg.smtputf8) a.smtputf8 = 'yes';
  if (filter !== undefined) a.content_filter = filter;
  return a;
}

/** Passes chunks through while counting; past `limit` bytes calls `over` once (0 = no limit). */
async function* countBytes(src: AsyncIterable<Uint8Array>, limit: number, over: () => void): AsyncGenerator<Uint8Array> {
  let n = 0;
  let tripped = false;
  for await (const c of src) {
    n += c.byteLength;
    if (limit > 0 && n > limit && !tripped) {
      tripped = true;
      over();
    }
    if (!tripped) yield c;
  }
}
