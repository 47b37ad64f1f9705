/*
 * The MTA's closed list of log events, each producing the exact text Postfix 3.7 logs for it
 * (reference/postfix.md §11; fail2ban's postfix filters and pflogsumm key on these shapes).
 * Daemon code logs through these functions only, never with ad-hoc strings, so the wire format has
 * one home and a test can hold every event to the observed line.
 *
 * Client-supplied text (HELO names, addresses, non-SMTP commands) passes through logSafe() in the
 * line formatter; nothing here logs passwords or message content.
 */

/** `name[addr]` as Postfix writes a client or relay. */
export function hostAddr(name: string, addr: string): string {
  return `${name}[${addr}]`;
}

/**
 * Postfix's compact delay notation: at most two significant digits below 10 s, whole seconds from
 * 10 s on, at most `limit` decimals (delay_logging_resolution_limit, 0..6, default 2), values below
 * the resolution logged as 0, trailing zeros dropped: 0.02, 0.5, 1.3, 12, 0.
 */
export function formatDelay(seconds: number, limit = 2): string {
  const res = Math.min(6, Math.max(0, Math.trunc(limit)));
  if (!(seconds > 0)) return '0';
  if (seconds >= 10) return seconds.toFixed(0);
  if (seconds >= 1) return seconds.toFixed(Math.min(1, res)).replace(/\.0$/, '');
  if (seconds < 10 ** -res) return '0';
  const digits = Math.min(res, Math.ceil(-Math.log10(seconds)) + 1);
  const s = seconds.toFixed(digits);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

export interface CommandCounts {
  /** Command name as Postfix counts it: ehlo, helo, starttls, auth, mail, rcpt, data, bdat, rset, noop, vrfy, etrn, quit, unknown. */
  name: string;
  ok: number;
  total: number;
}

/** The tail of `disconnect from …`: `ehlo=1 mail=1/2 … commands=2/10`. */
export function formatCommandCounts(counts: readonly CommandCounts[]): string {
  let ok = 0;
  let total = 0;
  const parts = counts.map((c) => {
    ok += c.ok;
    total += c.total;
    return c.ok === c.total ? `${c.name}=${c.total}` : `${c.name}=${c.ok}/${c.total}`;
  });
  parts.push(ok === total ? `commands=${total}` : `commands=${ok}/${total}`);
  return parts.join(' ');
}

export type DeliveryStatus = 'sent' | 'deferred' | 'bounced' | 'expired';

export interface DeliveryRecord {
  queueId: string;
  to: string;
  origTo?: string;
  /** `host[addr]:port`, `private/dovecot-lmtp`-style, or `none`. */
  relay: string;
  /** Total delay and the four components a/b/c/d in seconds. */
  delay: number;
  delays: readonly [number, number, number, number];
  dsn: string;
  status: DeliveryStatus;
  /** Reply or reason, printed in parentheses. */
  reason: string;
  /** delay_logging_resolution_limit (default 2). */
  resolution?: number;
}

/** Who sent a message, for cleanup's header_checks log lines. */
export interface CleanupLogContext {
  /** `name[addr]`; absent for local submission. */
  client?: string;
  from: string;
  to?: string;
  proto?: string;
  helo?: string;
}

/** The log events, by the Postfix program that writes them. */
export const mtaEvents = {
  smtpd: {
    connect: (client: string) => `connect from ${client}`,
    disconnect: (client: string, counts: readonly CommandCounts[]) =>
      `disconnect from ${client} ${formatCommandCounts(counts)}`,
    lostConnection: (after: string, client: string) => `lost connection after ${after} from ${client}`,
    timeout: (after: string, client: string) => `timeout after ${after} from ${client}`,
    tooManyErrors: (after: string, client: string) => `too many errors after ${after} from ${client}`,
    /** warning */
    nonSmtpCommand: (client: string, line: string) => `non-SMTP command from ${client}: ${line}`,
    /** info; fail2ban matches it */
    improperPipelining: (after: string, client: string, rest: string) =>
      `improper command pipelining after ${after} from ${client}: ${rest}`,
    /** warning; fail2ban's postfix-sasl filter */
    saslFailed: (client: string, mech: string, reason: string) =>
      `${client}: SASL ${mech} authentication failed: ${reason}`,
    client: (queueId: string, client: string, sasl?: { method: string; username: string }) =>
      sasl
        ? `${queueId}: client=${client}, sasl_method=${sasl.method}, sasl_username=${sasl.username}`
        : `${queueId}: client=${client}`,
    reject: (
      queueId: string | undefined,
      stage: string,
      client: string,
      reply: string,
      env: { from?: string; to?: string; proto: string; helo?: string },
      action: 'reject' | 'hold' | 'discard' | 'milter-reject' | 'milter-hold' | 'milter-discard' = 'reject',
    ) => {
      let s = `${queueId ?? 'NOQUEUE'}: ${action}: ${stage} from ${client}: ${reply};`;
      if (env.from !== undefined) s += ` from=<${env.from}>`;
      if (env.to !== undefined) s += ` to=<${env.to}>`;
      s += ` proto=${env.proto}`;
      if (env.helo !== undefined) s += ` helo=<${env.helo}>`;
      return s;
    },
  },
  master: {
    started: (version: string, configDir: string) => `daemon started -- version ${version}, configuration ${configDir}`,
    reload: (version: string, configDir: string) => `reload -- version ${version}, configuration ${configDir}`,
    terminating: (signal: number) => `terminating on signal ${signal}`,
  },
  pickup: {
    accepted: (queueId: string, uid: number, from: string) => `${queueId}: uid=${uid} from=<${from}>`,
  },
  cleanup: {
    messageId: (queueId: string, messageId: string) => `${queueId}: message-id=${messageId}`,
    /**
     * A header_checks action (Postfix cleanup_act_log): `QID: reject: header Subject: x from
     * host[addr]; from=<s> to=<r> proto=ESMTP helo=<h>: 5.7.1 text`; the header is cut at 200 bytes.
     */
    headerAction: (queueId: string, action: string, header: string, ctx: CleanupLogContext, text?: string) => {
      let s = `${queueId}: ${action}: header ${header.slice(0, 200)}`;
      if (ctx.client !== undefined) s += ` from ${ctx.client};`;
      s += ` from=<${ctx.from}>`;
      if (ctx.to !== undefined) s += ` to=<${ctx.to}>`;
      if (ctx.proto !== undefined) s += ` proto=${ctx.proto}`;
      if (ctx.helo !== undefined) s += ` helo=<${ctx.helo}>`;
      if (text !== undefined && text !== '') s += `: ${text}`;
      return s;
    },
    /**
     * The milters' end-of-message verdict (Postfix cleanup_milter.c): `QID: milter-reject:
     * END-OF-MESSAGE from host[addr]: 5.7.1 text; from=<s> to=<r> proto=ESMTP helo=<h>` (the reply
     * without its three-digit code), `milter-discard: … milter triggers DISCARD action; …`,
     * `milter-hold: … milter triggers HOLD action; …` (observed 3.7.11).
     */
    milterAction: (queueId: string, action: 'milter-reject' | 'milter-discard' | 'milter-hold', ctx: CleanupLogContext, text: string) => {
      let s = `${queueId}: ${action}: END-OF-MESSAGE`;
      if (ctx.client !== undefined) s += ` from ${ctx.client}`;
      s += `: ${text}; from=<${ctx.from}>`;
      if (ctx.to !== undefined) s += ` to=<${ctx.to}>`;
      if (ctx.proto !== undefined) s += ` proto=${ctx.proto}`;
      if (ctx.helo !== undefined) s += ` helo=<${ctx.helo}>`;
      return s;
    },
  },
  qmgr: {
    active: (queueId: string, from: string, size: number, nrcpt: number) =>
      `${queueId}: from=<${from}>, size=${size}, nrcpt=${nrcpt} (queue active)`,
    removed: (queueId: string) => `${queueId}: removed`,
    expired: (queueId: string, from: string) => `${queueId}: from=<${from}>, status=expired, returned to sender`,
  },
  delivery: {
    /** Written by the delivery agent (lmtp, smtp, discard, error …) for each recipient. */
    outcome: (r: DeliveryRecord) =>
      `${r.queueId}: to=<${r.to}>,${r.origTo !== undefined ? ` orig_to=<${r.origTo}>,` : ''} relay=${r.relay}, ` +
      `delay=${formatDelay(r.delay, r.resolution)}, delays=${r.delays.map((d) => formatDelay(d, r.resolution)).join('/')}, dsn=${r.dsn}, ` +
      `status=${r.status} (${r.reason})`,
  },
  /** smtp(8) client events besides the per-recipient outcome. */
  smtp: {
    /** `Untrusted TLS connection established to mx.example.com[192.0.2.1]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384` */
    tlsEstablished: (trust: 'Anonymous' | 'Untrusted' | 'Trusted' | 'Verified', relay: string, cipher: string) =>
      `${trust} TLS connection established to ${relay}: ${cipher}`,
    /** A failed handshake (Postfix: `SSL_connect error to host[addr]:port: …`). */
    sslConnectError: (relay: string, detail: string) => `SSL_connect error to ${relay}: ${detail}`,
    /** warning; opportunistic TLS only: the delivery is retried on a new plaintext connection. */
    tlsFallback: (relay: string) => `${relay}: TLS handshake failed; retrying the delivery without TLS (smtp_tls_security_level = may)`,
    /** warning; a server-certificate or mandatory-TLS failure moved delivery on to the next server. */
    tlsPolicyFailure: (queueId: string, relay: string, reason: string) => `${queueId}: TLS policy not met by ${relay}: ${reason}`,
  },
  bounce: {
    nonDelivery: (queueId: string, bounceId: string) => `${queueId}: sender non-delivery notification: ${bounceId}`,
    delayWarning: (queueId: string, noticeId: string) => `${queueId}: sender delay notification: ${noticeId}`,
    success: (queueId: string, noticeId: string) => `${queueId}: sender delivery status notification: ${noticeId}`,
    postmasterNonDelivery: (queueId: string, noticeId: string) => `${queueId}: postmaster non-delivery notification: ${noticeId}`,
  },
} as const;

/** smtpd events beyond the core set above (each held to Postfix 3.7.11's observed line in test/mta/smtpd). */
export const smtpdEvents = {
  /** Postfix prints `commands=0/0` when the client sent nothing at all. */
  disconnectNoCommands: (client: string) => `disconnect from ${client} commands=0/0`,
  /** warning */
  nonSmtp: (client: string, line: string) => `non-SMTP command from ${client}: ${line.slice(0, 100)}`,
  /** warning: an over-long command line was cut (first 30 characters shown, non-printables as ?) */
  requestTooLong: (client: string, limit: number, line: string) =>
    `${client}: request longer than ${limit}: ${line.slice(0, 30).replace(/[^\x20-\x7e]/g, '?')}...`,
  /** warning */
  illegalAddress: (client: string, command: string, addr: string) =>
    `Illegal address syntax from ${client} in ${command} command: ${addr}`,
  /** warning */
  dsnNotifyValue: (detail: string) => detail,
  /** warning */
  bdatSyntax: (queueId: string | undefined, client: string, line: string) =>
    `${queueId ?? 'NOQUEUE'}: malformed BDAT command syntax from ${client}: ${line.slice(0, 100)}`,
  /** warning */
  bdatNull: (queueId: string | undefined, client: string) => `${queueId ?? 'NOQUEUE'}: null BDAT request from ${client}`,
  /** warning */
  bdatTooBig: (queueId: string | undefined, client: string) =>
    `${queueId ?? 'NOQUEUE'}: BDAT request from ${client} exceeds message size limit`,
  /** warning */
  fileTooBig: (queueId: string | undefined) => `${queueId ?? 'NOQUEUE'}: queue file size limit exceeded`,
  /** warning */
  etrnReject: (domain: string, client: string) => `reject: ETRN ${domain.slice(0, 100)}... from ${client}`,
  /** ETRN granted but the queue could not be updated (458). */
  etrnFailure: (domain: string, detail: string) => `ETRN ${domain.slice(0, 100)}: unable to queue messages: ${detail}`,
  /** warning */
  tlsHandshakeFailed: (client: string, detail: string) => `TLS handshake failed from ${client}: ${detail}`,
  /** info */
  tlsEstablished: (client: string, protocol: string, cipher: string) =>
    `Anonymous TLS connection established from ${client}: ${protocol} with cipher ${cipher}`,
  /** warning */
  saslBackend: (detail: string) => `SASL: ${detail}`,
  /** warning */
  policyFailure: (stage: string, detail: string) => `smtpd policy failure at ${stage}: ${detail}`,
  /** warning */
  internalError: (client: string, detail: string) => `${client}: internal error: ${detail}`,
  /** warning */
  cleanupFailure: (queueId: string | undefined, detail: string) => `${queueId ?? 'NOQUEUE'}: cleanup failure: ${detail}`,
} as const;
