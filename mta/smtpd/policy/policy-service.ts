/*
 * check_policy_service (SMTPD_POLICY_README): the argument, the request attributes and the reply.
 *
 * - Argument: `inet:host:port`, `unix:/path`, `unix:private/name` (relative to queue_directory, as
 *   Postfix's smtpd runs there), or the Postfix 3.0 form `{ inet:host:port, timeout=10s,
 *   default_action=DUNNO, … }` whose name=value overrides are default_action, max_idle, max_ttl,
 *   policy_context, request_limit, retry_delay, timeout and try_limit (a value with spaces or
 *   commas goes in braces: `{ default_action = 450 4.7.1 try later }`). Other settings come from
 *   smtpd_policy_service_*.
 * - Request: the attributes Postfix 3.7.11 sends, in its order, as observed by pointing the real
 *   smtpd at a recording server (test/mta/smtpd/policy/policy-interop.test.ts): see ATTRIBUTE_ORDER.
 *   recipient_count is 0 except at DATA/END-OF-MESSAGE; `instance` is one value per mail transaction
 *   (Postfix: pid.seconds.microseconds.sequence, all hex); stress and ccert_* are empty (Postern
 *   has no stress mode and asks for no client certificates).
 * - Reply: `action=…` is an access(5) result (access-result.ts), or a restriction list run with the
 *   same reply target; when the service fails, default_action is used the same way
 *   (default "451 4.3.5 Server configuration problem").
 */
import { splitListBraced } from '../../../shared/config/postfix/values.js';
import { parseTime } from '../../../shared/config/postfix/values.js';
import type { SmtpdFacts, SmtpdStage } from './api.js';
import { PolicyClient, type PolicyClientSettings, type PolicyEndpoint } from './policy-client.js';

/** Attribute names in the order Postfix 3.7.11 sends them (observed). */
export const ATTRIBUTE_ORDER = [
  'request', 'protocol_state', 'protocol_name', 'client_address', 'client_name', 'client_port', 'reverse_client_name',
  'server_address', 'server_port', 'helo_name', 'sender', 'recipient', 'recipient_count', 'queue_id', 'instance', 'size',
  'etrn_domain', 'stress', 'sasl_method', 'sasl_username', 'sasl_sender', 'ccert_subject', 'ccert_issuer',
  'ccert_fingerprint', 'ccert_pubkey_fingerprint', 'encryption_protocol', 'encryption_cipher', 'encryption_keysize',
  'policy_context',
] as const;

export interface PolicyServiceSpec {
  /** The whole argument, the key for connection reuse. */
  key: string;
  endpoint: PolicyEndpoint;
  /** Name in log lines, as Postfix's auto_clnt names it: `host:port`, or the path as written. */
  name: string;
  settings: PolicyClientSettings;
  defaultAction: string;
  policyContext: string;
}

export interface PolicyDefaults extends PolicyClientSettings {
  defaultAction: string;
  policyContext: string;
  queueDirectory: string;
}

export class PolicySpecError extends Error {
  override readonly name = 'PolicySpecError';
}

function parseEndpoint(text: string, queueDirectory: string): { endpoint: PolicyEndpoint; name: string } {
  const m = /^(inet|unix|local):(.+)$/i.exec(text.trim());
  if (!m) throw new PolicySpecError(`unsupported policy service endpoint "${text}" (expected inet:host:port or unix:path)`);
  const type = m[1]!.toLowerCase();
  const rest = m[2]!;
  if (type === 'inet') {
    const hp = /^\[?([^\]]*?)\]?:([^:]+)$/.exec(rest);
    if (!hp) throw new PolicySpecError(`policy service "${text}": missing port`);
    const port = Number(hp[2]);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new PolicySpecError(`policy service "${text}": bad port "${hp[2]}"`);
    return { endpoint: { kind: 'inet', host: hp[1] === '' ? '127.0.0.1' : hp[1]!, port }, name: rest };
  }
  const path = rest.startsWith('/') ? rest : `${queueDirectory.replace(/\/$/, '')}/${rest}`;
  return { endpoint: { kind: 'unix', path }, name: rest };
}

/** Parses a check_policy_service argument (braces already removed by the list splitter). */
export function parsePolicySpec(arg: string, d: PolicyDefaults): PolicyServiceSpec {
  const words = splitListBraced(arg);
  if (words.length === 0) throw new PolicySpecError('check_policy_service: missing service name');
  const { endpoint, name } = parseEndpoint(words[0]!, d.queueDirectory);
  const settings: PolicyClientSettings = {
    timeoutMs: d.timeoutMs, maxIdleMs: d.maxIdleMs, maxTtlMs: d.maxTtlMs, tryLimit: d.tryLimit,
    retryDelayMs: d.retryDelayMs, requestLimit: d.requestLimit,
  };
  let defaultAction = d.defaultAction;
  let policyContext = d.policyContext;
  const time = (v: string, n: string): number => {
    try {
      return parseTime(v, 's', n) * 1000;
    } catch (err) {
      throw new PolicySpecError(`${arg}: ${(err as Error).message}`);
    }
  };
  const int = (v: string, n: string): number => {
    if (!/^\d+$/.test(v)) throw new PolicySpecError(`${arg}: bad ${n} value "${v}"`);
    return Number(v);
  };
  for (const nv of words.slice(1)) {
    const eq = nv.indexOf('=');
    if (eq < 0) throw new PolicySpecError(`${arg}: "${nv}": missing '=' after attribute name`);
    const key = nv.slice(0, eq).trim().toLowerCase();
    const value = nv.slice(eq + 1).trim();
    switch (key) {
      case 'timeout': settings.timeoutMs = time(value, key); break;
      case 'max_idle': settings.maxIdleMs = time(value, key); break;
      case 'max_ttl': settings.maxTtlMs = time(value, key); break;
      case 'retry_delay': settings.retryDelayMs = time(value, key); break;
      case 'try_limit': settings.tryLimit = int(value, key); break;
      case 'request_limit': settings.requestLimit = int(value, key); break;
      case 'default_action': defaultAction = value; break;
      case 'policy_context': policyContext = value; break;
      default: throw new PolicySpecError(`${arg}: unknown attribute name: ${key}`);
    }
  }
  return { key: arg, endpoint, name, settings, defaultAction, policyContext };
}

const STATE_NAMES: Record<SmtpdStage, string> = {
  connect: 'CONNECT', helo: 'HELO', mail: 'MAIL', rcpt: 'RCPT', data: 'DATA', 'end-of-data': 'END-OF-MESSAGE', etrn: 'ETRN', vrfy: 'VRFY',
};

/** Instance strings: one per transaction object, Postfix's `%x.%lx.%lx.%x` (pid.sec.usec.seqno). */
const instances = new WeakMap<object, string>();
let instanceSeq = 0;

export function transactionInstance(tx: object | undefined, now: () => number = Date.now): string {
  if (tx === undefined) return '';
  let v = instances.get(tx);
  if (v === undefined) {
    const ms = now();
    const sec = Math.floor(ms / 1000);
    const usec = (ms % 1000) * 1000 + Math.floor(Math.random() * 1000);
    v = `${process.pid.toString(16)}.${sec.toString(16)}.${usec.toString(16)}.${(instanceSeq++).toString(16)}`;
    instances.set(tx, v);
  }
  return v;
}

/** The request attributes for one evaluation, in Postfix's order. */
export function requestAttributes(stage: SmtpdStage, f: SmtpdFacts, policyContext: string): [string, string][] {
  let state = STATE_NAMES[stage];
  if (stage === 'helo') state = f.protocol.startsWith('ESMTP') ? 'EHLO' : 'HELO';
  const counted = stage === 'data' || stage === 'end-of-data';
  const tls = f.tlsInfo;
  const values: Record<(typeof ATTRIBUTE_ORDER)[number], string> = {
    request: 'smtpd_access_policy',
    protocol_state: state,
    protocol_name: f.protocol,
    client_address: f.client.addr,
    client_name: f.client.name,
    client_port: String(f.client.port),
    reverse_client_name: f.client.reverseName ?? f.client.name,
    server_address: f.server.addr,
    server_port: String(f.server.port),
    helo_name: f.helo ?? '',
    sender: f.sender ?? '',
    recipient: stage === 'rcpt' || stage === 'vrfy' ? (f.recipient ?? '') : '',
    recipient_count: String(counted ? f.recipientCount : 0),
    queue_id: f.queueId ?? '',
    instance: transactionInstance(f.transaction),
    size: String(f.size ?? 0),
    etrn_domain: f.etrnDomain ?? '',
    stress: '',
    sasl_method: f.sasl?.method ?? '',
    sasl_username: f.sasl?.username ?? '',
    sasl_sender: f.saslSender ?? '',
    ccert_subject: '',
    ccert_issuer: '',
    ccert_fingerprint: '',
    ccert_pubkey_fingerprint: '',
    encryption_protocol: tls?.protocol ?? '',
    encryption_cipher: tls?.cipher ?? '',
    encryption_keysize: String(tls?.bits ?? 0),
    policy_context: policyContext,
  };
  return ATTRIBUTE_ORDER.map((k) => [k, values[k]]);
}

/** The per-daemon set of policy clients, one per distinct check_policy_service argument. */
export class PolicyServices {
  private readonly clients = new Map<string, { spec: PolicyServiceSpec; client: PolicyClient } | PolicySpecError>();

  constructor(
    private readonly defaults: PolicyDefaults,
    private readonly log: (line: string) => void,
    private readonly sleep?: (ms: number) => Promise<void>,
  ) {}

  /** The client for an argument; a PolicySpecError when the argument is malformed (logged once). */
  get(arg: string): { spec: PolicyServiceSpec; client: PolicyClient } | PolicySpecError {
    let c = this.clients.get(arg);
    if (c === undefined) {
      try {
        const spec = parsePolicySpec(arg, this.defaults);
        const opts = this.sleep ? { log: this.log, sleep: this.sleep } : { log: this.log };
        c = { spec, client: new PolicyClient(spec.name, spec.endpoint, spec.settings, opts) };
      } catch (err) {
        c = err instanceof PolicySpecError ? err : new PolicySpecError(String(err));
        this.log(`warning: ${c.message}`);
      }
      this.clients.set(arg, c);
    }
    return c;
  }

  close(): void {
    for (const c of this.clients.values()) if (!(c instanceof PolicySpecError)) c.client.close();
  }
}
