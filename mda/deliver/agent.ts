/*
 * The LDA logic behind LMTP (Dovecot lmtp-local.c + lib-lda): at RCPT, strip the detail
 * (recipient_delimiter), normalise the name the way the auth service does (auth_username_format)
 * and look the user up in the userdb with service=lmtp; at DATA, prepend Return-Path /
 * Delivered-To / Received (headers.ts), pick the mailbox (INBOX, or the detail with
 * lmtp_save_to_detail_mailbox; a missing one is created with lda_mailbox_autocreate, else the
 * mail falls back to INBOX as Dovecot logs it), check quota, and save through the storage API.
 * Each outcome is `saved` only once storage.deliver() resolved, i.e. the file is fsync'd in new/.
 * A user's store is shared with the process's sessions of that user and stays open for a moment
 * between deliveries (store-cache.ts).
 *
 * Logs Dovecot's lines under `lmtp(<user>)<pid><rcpt-id>`: `msgid=<…>: saved mail to INBOX`,
 * `save failed to open mailbox …`, `save failed to INBOX: Quota exceeded …`. Never the body.
 * Distrusts: the detail (used as a mailbox name only through the storage API, which refuses
 * `/`, `..` and control characters) and userdb fields (uid/gid checked by privileges.ts).
 */
import type { DovecotLog } from '../../shared/log/logger.js';
import type { RequestFacts } from '../auth/auth-service.js';
import type { UserdbResult } from '../auth/db.js';
import { mdaEvents } from '../log-events.js';
import { recipientIds } from '../privileges.js';
import { leaseUserMail } from '../mail-user.js';
import { INTERNAL_ERROR_TEXT, isStorageError, openQuota, StorageError, type MailStore, type SaveResult } from '../storage/api.js';
import { messageIdForLog, traceHeaders } from './headers.js';
import { limitsFor, quotaConfig, quotaRootOf } from './quota-rules.js';
import { splitRecipient } from './recipient.js';
import { MailStoreCache, type StoreLease } from '../store-cache.js';
import type { DeliverySettings } from './settings.js';
import type { DeliveryAgent, DeliveryEnvelope, DeliveryOutcome, DeliveryTarget, RecipientLookup, ResolvedRecipient } from './types.js';

/** What the agent needs from the auth service (AuthService satisfies it). */
export interface UserdbPort {
  normalize(rawUser: string, facts: RequestFacts): { ok: true; user: string } | { ok: false; error: string };
  userLookup(user: string, facts: RequestFacts): Promise<UserdbResult>;
}

export type LogFor = (prefix: string) => Pick<DovecotLog, 'info' | 'warn' | 'error'>;

export interface LdaAgentOptions {
  readonly settings: DeliverySettings;
  readonly userdb: UserdbPort;
  readonly logFor: LogFor;
  /** The uid/gid mail is written as (the process's, after any privilege drop). */
  readonly processUid: number;
  readonly processGid: number;
  readonly now?: () => Date;
  /**
   * Per-uid mail workers (mda/worker/pool.ts): this process (root) writes no mail; each
   * recipient's message goes to the worker of its uid:gid, which runs deliverPrepared().
   */
  readonly workers?: {
    deliver(slot: { readonly uid: number; readonly gid: number }, r: { rcpt: ResolvedRecipient; rcptId: string; message: Buffer; size: number; msgid: string }): Promise<DeliveryOutcome>;
  };
  /** The process's store cache, shared with its IMAP and POP3 sessions (default: the agent's own). */
  readonly stores?: MailStoreCache;
}

/** Physical (LF) size of a CRLF message: storage writes CRLF as LF. */
function lfSize(buf: Buffer): number {
  let crlf = 0;
  for (let i = buf.indexOf(0x0d); i >= 0 && i < buf.length - 1; i = buf.indexOf(0x0d, i + 1)) if (buf[i + 1] === 0x0a) crlf++;
  return buf.length - crlf;
}

function asStorageError(err: unknown): StorageError {
  if (isStorageError(err)) return err;
  return new StorageError('TEMP', INTERNAL_ERROR_TEXT, err instanceof Error ? err.message : String(err), { cause: err });
}

export class LdaAgent implements DeliveryAgent {
  private readonly stores: MailStoreCache;

  constructor(private readonly o: LdaAgentOptions) {
    this.stores = o.stores ?? new MailStoreCache();
  }

  async lookup(address: string, localPart: string, domain: string, session: { sessionId: string; remoteIp?: string; localIp?: string }): Promise<RecipientLookup> {
    const { user, detail } = splitRecipient(localPart, domain, this.o.settings.recipient_delimiter);
    const facts: RequestFacts = {
      service: 'lmtp',
      session: session.sessionId,
      ...(session.remoteIp !== undefined ? { rip: session.remoteIp } : {}),
      ...(session.localIp !== undefined ? { lip: session.localIp } : {}),
    };
    const n = this.o.userdb.normalize(user, facts);
    if (!n.ok) return { kind: 'notfound', user };
    const r = await this.o.userdb.userLookup(n.user, facts);
    if (r.kind === 'notfound') return { kind: 'notfound', user };
    if (r.kind === 'fail') return { kind: 'tempfail', user, reason: r.reason };
    const ids = recipientIds(r.fields, this.o.settings, this.o.processUid, this.o.processGid, this.o.workers !== undefined);
    if ('refused' in ids) {
      this.o.logFor(`lmtp(${r.user})<${process.pid}><${session.sessionId}>`).error(ids.refused);
      return { kind: 'tempfail', user, reason: ids.refused };
    }
    return { kind: 'found', rcpt: { address, user: r.user, detail, fields: r.fields } };
  }

  async deliver(env: DeliveryEnvelope, targets: readonly DeliveryTarget[], message: Buffer): Promise<DeliveryOutcome[]> {
    const s = this.o.settings;
    const msgid = messageIdForLog(message);
    const single = targets.length === 1 ? targets[0]!.rcpt.address : undefined;
    const headers = traceHeaders({
      sender: env.sender,
      deliveredTo: s.lmtp_hdr_delivery_address !== 'none' ? single : undefined,
      forRcpt: single,
      lhloName: env.lhloName,
      remoteIp: env.remoteIp,
      hostname: s.hostname,
      transactionId: env.transactionId,
      addReceived: s.lmtp_add_received_header,
      date: (this.o.now ?? (() => new Date()))(),
    });
    const full = Buffer.concat([Buffer.from(headers, 'latin1'), message]);
    const size = lfSize(full);
    const out: DeliveryOutcome[] = [];
    // One after the other: two addresses may resolve to the same user and maildir.
    for (const t of targets) out.push(await this.deliverOne(t, full, size, msgid));
    return out;
  }

  private async deliverOne(t: DeliveryTarget, full: Buffer, size: number, msgid: string): Promise<DeliveryOutcome> {
    const w = this.o.workers;
    if (w === undefined) return this.deliverPrepared(t, full, size, msgid);
    const ids = recipientIds(t.rcpt.fields, this.o.settings, this.o.processUid, this.o.processGid, true);
    if ('refused' in ids) return { kind: 'failed', error: new StorageError('TEMP', INTERNAL_ERROR_TEXT, ids.refused) };
    return w.deliver({ uid: ids.uid, gid: ids.gid }, { rcpt: t.rcpt, rcptId: t.id, message: full, size, msgid });
  }

  /**
   * Saves one recipient's copy (`full` has the trace headers already): the detail mailbox or
   * INBOX, with quota. Runs in this process, or in the recipient's mail worker.
   */
  async deliverPrepared(t: DeliveryTarget, full: Buffer, size: number, msgid: string): Promise<DeliveryOutcome> {
    const s = this.o.settings;
    const { user, fields, detail } = t.rcpt;
    const log = this.o.logFor(`lmtp(${user})<${process.pid}><${t.id}>`);
    let lease: StoreLease | undefined;
    /** A storage failure (logged as an error): the store is dropped from the cache, so the next delivery opens it afresh. */
    let broken = false;
    let mailbox = 'INBOX';
    try {
      lease = await leaseUserMail(this.stores, user, fields, { mailLocation: s.mail_location, mailHome: s.mail_home, service: 'lmtp', separator: s.separator });
      const store: MailStore = lease.mail.store;
      const qc = quotaConfig(s.mail_plugins, s.plugin, fields);
      const quota = qc === undefined ? undefined : openQuota(store, quotaRootOf(qc));
      const save = async (box: string): Promise<SaveResult> => {
        if (qc !== undefined) await quota?.check(limitsFor(qc, box), size);
        // DURABILITY: resolves only after tmp/ → new/ rename and directory fsync.
        const res = await store.deliver(box, full);
        await quota?.record(size).catch((err: unknown) => log.error(`quota: ${err instanceof Error ? err.message : String(err)}`));
        return res;
      };
      if (s.lmtp_save_to_detail_mailbox && detail !== '') {
        try {
          mailbox = detail;
          const r = await this.saveDetail(store, detail, save);
          log.info(mdaEvents.lmtp.saved(msgid, detail));
          return { kind: 'saved', mailbox: detail, uid: r.uid };
        } catch (err) {
          const e = asStorageError(err);
          if (e.kind !== 'NOTFOUND' && e.kind !== 'PARAMS') throw e;
          log.info(mdaEvents.lmtp.saveFailed(msgid, `${detail}: ${e.clientText}`));
          mailbox = 'INBOX';
        }
      }
      const r = await save('INBOX');
      log.info(mdaEvents.lmtp.saved(msgid, 'INBOX'));
      return { kind: 'saved', mailbox: 'INBOX', uid: r.uid };
    } catch (err) {
      const e = asStorageError(err);
      log.info(mdaEvents.lmtp.saveFailedTo(msgid, mailbox, e.clientText));
      broken = e.kind === 'TEMP' || e.kind === 'PERM';
      if (broken) log.error(e.logDetail);
      return { kind: 'failed', error: e };
    } finally {
      await lease?.release(broken);
    }
  }

  private async saveDetail(store: MailStore, box: string, save: (box: string) => Promise<SaveResult>): Promise<SaveResult> {
    try {
      return await save(box);
    } catch (err) {
      if (!(isStorageError(err) && err.kind === 'NOTFOUND' && this.o.settings.lda_mailbox_autocreate)) throw err;
      try {
        await store.create(box);
      } catch (cerr) {
        if (!(isStorageError(cerr) && cerr.kind === 'EXISTS')) throw cerr;
      }
      if (this.o.settings.lda_mailbox_autosubscribe) await store.subscribe(box);
      return save(box);
    }
  }
}
