/*
 * smtpd_milters for one SMTP session (Postfix 3.7 smtpd.c + milter.c): one MilterSession per
 * milter in the list, called in list order at each event; the first answer that is not
 * `continue` wins and the later milters do not see that event (milter.c's event loops). A
 * quarantine (`hold`) does not stop the chain: the message is held and the other milters still run.
 *
 * At end of message cleanup hands the message over (IncomingMessage.milters): each milter in turn
 * gets the headers (without our own Received:, which Postfix never shows a milter) and the body as
 * the previous milters left them, and its modifications are applied (apply.ts, cleanup_milter.c's
 * semantics) before the next milter runs, as Postfix edits the queue file between milters.
 *
 * Calls are serialised through one promise chain, so an abort() fired at RSET or after DATA reaches
 * the milters before the next event.
 *
 * Reads (parameters): smtpd_milters, milter_protocol, milter_default_action,
 * milter_connect_timeout, milter_command_timeout, milter_content_timeout, milter_*_macros,
 * milter_macro_defaults, milter_macro_daemon_name, milter_macro_v, soft_bounce.
 * Distrusts the milters: every call is bounded by the client's timeouts; errors become
 * milter_default_action (client.ts).
 */
import type { PostfixConfig } from '../../shared/config/postfix/config.js';
import { reply as mkReply, type SmtpReply } from '../../shared/proto/smtp-reply.js';
import { MilterSession, type ConnectInfo, type MilterResult, type MilterSettings } from '../milter/client.js';
import { applyModifications } from '../milter/apply.js';
import type { MilterMessageIn, MilterMessageOut } from '../cleanup/api.js';
import { macroLookup, parseMacroDefaults, type SmtpdMacroValues } from '../milter/macros.js';
import { SMFIP } from '../milter/codec.js';

export interface SmtpdMilterConfig {
  milters: string[];
  settings: MilterSettings;
  /** milter_macro_daemon_name, milter_macro_v, $myhostname (`j`). */
  daemonName: string;
  v: string;
  myhostname: string;
}

/** The milter configuration of one smtpd service; undefined when smtpd_milters is empty. */
export function smtpdMilterConfig(cfg: PostfixConfig): SmtpdMilterConfig | undefined {
  const milters = cfg.getList('smtpd_milters');
  if (milters.length === 0) return undefined;
  const settings: MilterSettings = {
    connectTimeout: cfg.getTime('milter_connect_timeout'),
    commandTimeout: cfg.getTime('milter_command_timeout'),
    contentTimeout: cfg.getTime('milter_content_timeout'),
    protocol: cfg.get('milter_protocol'),
    defaultAction: cfg.get('milter_default_action'),
    macros: {
      connect: cfg.get('milter_connect_macros'),
      helo: cfg.get('milter_helo_macros'),
      mail: cfg.get('milter_mail_macros'),
      rcpt: cfg.get('milter_rcpt_macros'),
      data: cfg.get('milter_data_macros'),
      eoh: cfg.get('milter_end_of_header_macros'),
      eom: cfg.get('milter_end_of_data_macros'),
      unknown: cfg.get('milter_unknown_command_macros'),
    },
    macroDefaults: parseMacroDefaults(cfg.get('milter_macro_defaults')),
    softBounce: cfg.getBool('soft_bounce'),
  };
  return { milters, settings, daemonName: cfg.get('milter_macro_daemon_name'), v: cfg.get('milter_macro_v'), myhostname: cfg.get('myhostname') };
}


export class MilterChain {
  readonly sessions: MilterSession[];
  /** Macro values as smtpd knows them now; updated by the session before each event. */
  values: SmtpdMacroValues;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly config: SmtpdMilterConfig, warn: (text: string) => void) {
    this.values = { j: config.myhostname, daemonName: config.daemonName, v: config.v };
    const lookup = (name: string): string | undefined => macroLookup(this.values)(name);
    this.sessions = config.milters.map((spec) => new MilterSession(spec, config.settings, lookup, { warn }));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.tail.then(fn, fn);
    this.tail = p.catch(() => undefined);
    return p;
  }

  private event(fn: (m: MilterSession) => Promise<MilterResult>): Promise<MilterResult> {
    return this.serial(async () => {
      let hold: MilterResult | undefined;
      for (const m of this.sessions) {
        const r = await fn(m);
        if (r.action === 'hold') {
          hold ??= r;
          continue;
        }
        if (r.action !== 'continue') return r;
      }
      return hold ?? { action: 'continue' };
    });
  }

  connect(c: ConnectInfo): Promise<MilterResult> {
    return this.event((m) => m.connect(c));
  }
  helo(name: string): Promise<MilterResult> {
    return this.event((m) => m.helo(name));
  }
  mail(args: readonly string[]): Promise<MilterResult> {
    return this.event((m) => m.envfrom(args));
  }
  rcpt(args: readonly string[]): Promise<MilterResult> {
    return this.event((m) => m.envrcpt(args));
  }
  data(): Promise<MilterResult> {
    return this.event((m) => m.data());
  }
  unknown(verb: string): Promise<MilterResult> {
    return this.event((m) => m.unknown(verb));
  }
  abort(): Promise<void> {
    return this.serial(async () => {
      for (const m of this.sessions) await m.abort();
    });
  }
  quit(): Promise<void> {
    return this.serial(async () => {
      for (const m of this.sessions) await m.quit();
    });
  }

  /** End of message: every milter in turn, each on the result of the previous one's modifications. */
  message(msg: MilterMessageIn): Promise<MilterMessageOut> {
    return this.serial(async () => {
      let cur = { sender: msg.sender, recipients: msg.recipients, headers: msg.headers, body: msg.body };
      // Our Received: is recognised by identity, as Postfix skips its own header by content.
      const own = msg.ownReceived;
      let hold: string | undefined;
      const warnings: string[] = [];
      for (const m of this.sessions) {
        const shown = cur.headers.filter((h) => h !== own);
        const { result, modifications } = await m.message(shown, cur.body);
        if (result.action === 'reply') return { kind: 'reject', reply: parseMilterReply(result.reply) };
        if (result.action === 'shutdown') return { kind: 'reject', reply: mkReply(421, '4.7.0', 'Server closing connection') };
        if (result.action === 'discard') return { kind: 'discard' };
        if (result.action === 'hold') hold ??= result.reason;
        if (modifications.length > 0) {
          const leadingSpace = ((m.negotiated?.events ?? 0) & SMFIP.HDR_LEADSPC) !== 0;
          // CHGHEADER never counts the first header (positional, as cleanup_milter.c's skip).
          const r = applyModifications(cur, modifications, { leadingSpace, hiddenHeaders: own !== undefined ? 1 : 0 });
          warnings.push(...r.warnings);
          cur = { sender: r.sender, recipients: r.recipients, headers: r.headers, body: r.body };
        }
      }
      return { kind: 'continue', ...cur, ...(hold !== undefined ? { hold } : {}), warnings };
    });
  }
}

/** A milter's reply text (`550 5.7.1 text`, lines joined with CRLF) as an SmtpReply. */
export function parseMilterReply(text: string): SmtpReply {
  const lines = text.split(/\r?\n/).filter((l) => l !== '');
  const code = Number(lines[0]?.slice(0, 3)) || 451;
  const enh = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})(?: |$)/.exec(lines[0] ?? '')?.[1];
  const body = lines.map((l) => {
    let t = l.slice(4);
    if (enh !== undefined && t.startsWith(enh)) t = t.slice(enh.length).replace(/^ /, '');
    return t;
  });
  return mkReply(code, enh, body.join('\n'));
}
