/*
 * Which delivery agent serves which transport: master.cf's `unix` services whose command is a
 * delivery agent (postfix.md §3.2), each with its own configuration (main.cf plus the service's
 * `-o` overrides) and its own log program name (the command: lmtp, discard, error, smtp) under its
 * syslog_name. smtp/relay use mta/delivery/smtp when given a logger. Transports Postern cannot
 * deliver yet (local, virtual, pipe)
 * get an agent that defers with a clear reason; a transport that master.cf does not define is
 * deferred as Postfix does, `mail transport unavailable`, logged by qmgr.
 */
import type { PostfixConfig } from '../../shared/config/postfix/config.js';
import type { DeliveryAgent } from './api.js';
import { LmtpAgent } from './lmtp/agent.js';
import { lmtpAgentOptions } from './lmtp/settings.js';
import { DiscardAgent, ErrorAgent, UnavailableAgent } from './simple-agents.js';
import { createSmtpAgent } from './smtp/agent.js';
import type { Log } from '../../shared/log/logger.js';

export interface TransportServiceSpec {
  /** master.cf service name = the transport name qmgr routes to. */
  name: string;
  /** master.cf command (first word): lmtp, smtp, discard, error, local, virtual, pipe … */
  command: string;
  /** main.cf with this service's -o overrides applied. */
  config: PostfixConfig;
}

export interface TransportService {
  name: string;
  /** Program name for log lines (`postfix/lmtp[pid]`). */
  program: string;
  /** syslog_name in effect for this service. */
  syslogName: string;
  agent: DeliveryAgent;
  config: PostfixConfig;
}

export const DELIVERY_COMMANDS: ReadonlySet<string> = new Set(['lmtp', 'smtp', 'discard', 'error', 'local', 'virtual', 'pipe']);

export function agentFor(spec: TransportServiceSpec, log?: Log): DeliveryAgent {
  switch (spec.command) {
    case 'smtp':
      // qmgr writes the per-recipient outcome lines for every agent (with delays=a/b/c/d).
      if (log) return createSmtpAgent({ config: spec.config, log, transport: spec.name, logOutcomes: false });
      return new UnavailableAgent(spec.name, 'delivery temporarily suspended: smtp delivery is not implemented');
    case 'lmtp':
      return new LmtpAgent(lmtpAgentOptions(spec.name, spec.config));
    case 'discard':
      return new DiscardAgent(spec.name);
    case 'error':
      return new ErrorAgent(spec.name, spec.name === 'retry');
    default:
      return new UnavailableAgent(spec.name, `delivery temporarily suspended: ${spec.command} delivery is not implemented`);
  }
}

export class AgentRegistry {
  private readonly services = new Map<string, TransportService>();

  constructor(private readonly fallback: { config: PostfixConfig; syslogName: string }) {}

  add(spec: TransportServiceSpec, agent: DeliveryAgent = agentFor(spec)): void {
    this.services.set(spec.name, {
      name: spec.name,
      program: spec.command,
      syslogName: spec.config.get('syslog_name') || 'postfix',
      agent,
      config: spec.config,
    });
  }

  /** The service for a transport; an unknown one defers as Postfix's qmgr does. */
  get(transport: string): TransportService {
    const s = this.services.get(transport);
    if (s) return s;
    const unknown: TransportService = {
      name: transport,
      program: 'qmgr',
      syslogName: this.fallback.syslogName,
      agent: new UnavailableAgent(transport, 'mail transport unavailable', '4.3.0'),
      config: this.fallback.config,
    };
    this.services.set(transport, unknown);
    return unknown;
  }

  names(): string[] {
    return [...this.services.keys()];
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.services.values()].map((s) => s.agent.close().catch(() => undefined)));
  }
}
