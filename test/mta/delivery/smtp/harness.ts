/*
 * Shared set-up for the smtp(8) agent tests: a config from main.cf-style overrides with small
 * timeouts (ms), the loopback DNS responder, a captured log, and a request builder.
 */
import { Readable } from 'node:stream';
import type { TestContext } from 'node:test';
import { postfixConfigFromText } from '../../../../shared/config/postfix/config.js';
import type { Log } from '../../../../shared/log/logger.js';
import type { DeliveryRequest } from '../../../../mta/delivery/api.js';
import { createSmtpAgent, type SmtpAgentOptions } from '../../../../mta/delivery/smtp/agent.js';
import { smtpSettings, type SmtpSettings, type SmtpTimeouts } from '../../../../mta/delivery/smtp/settings.js';
import { startDnsServer, type DnsServer, type DnsZone } from '../../../helpers/dns-server.js';
import { freePort } from '../../../helpers/free-port.js';

export interface Harness {
  dns: DnsServer;
  port: number;
  logs: string[];
  log: Log;
  settings(overrides?: Record<string, string>, timeouts?: Partial<SmtpTimeouts>): SmtpSettings;
  agent(overrides?: Record<string, string>, timeouts?: Partial<SmtpTimeouts>, extra?: Partial<SmtpAgentOptions>): ReturnType<typeof createSmtpAgent>;
}

export async function harness(t: TestContext, zone: DnsZone = {}): Promise<Harness> {
  const dns = await startDnsServer(t, zone);
  const port = await freePort();
  const logs: string[] = [];
  const log: Log = {
    info: (s) => logs.push(s),
    warn: (s) => logs.push(`warning: ${s}`),
    error: (s) => logs.push(`error: ${s}`),
    fatal: (s) => logs.push(`fatal: ${s}`),
  };
  const settings = (overrides: Record<string, string> = {}, timeouts: Partial<SmtpTimeouts> = {}): SmtpSettings => {
    const cfg = postfixConfigFromText('', {
      configDir: '/nonexistent',
      overrides: { myhostname: 'client.test', compatibility_level: '3.6', inet_protocols: 'ipv4', ...overrides },
      extraDefaults: (n) => (n === 'postern_dns_servers' ? dns.address : undefined),
    });
    const s = smtpSettings(cfg);
    s.timeouts = { ...s.timeouts, connect: 2000, helo: 2000, starttls: 2000, mail: 2000, rcpt: 2000, dataInit: 2000, dataXfer: 2000, dataDone: 2000, rset: 1000, quit: 1000, ...timeouts };
    return s;
  };
  return {
    dns,
    port,
    logs,
    log,
    settings,
    agent(overrides = {}, timeouts = {}, extra = {}) {
      const a = createSmtpAgent({ settings: settings(overrides, timeouts), log, ownAddresses: ['127.0.0.1'], random: () => 0.5, ...extra });
      t.after(() => a.close());
      return a;
    },
  };
}

export function request(o: Partial<DeliveryRequest> & { to: string[]; body?: string }): DeliveryRequest {
  const body = o.body ?? 'Subject: test\r\n\r\nhello\r\n';
  const { to, body: _b, ...rest } = o;
  return {
    queueId: 'ABC123',
    sender: 'alice@origin.test',
    recipients: to.map((address, index) => ({ index, address })),
    transport: 'smtp',
    nexthop: '',
    size: Buffer.byteLength(body),
    arrivalTime: Date.now() - 1000,
    content: () => Readable.from([Buffer.from(body)]),
    ...rest,
  };
}
