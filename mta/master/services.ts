/*
 * master.cf as the daemon runs it (pure apart from reading the files): each effective service with
 * its own configuration (main.cf + the entry's `-o` overrides + service_name), and the listening
 * addresses of `inet` services. The master process and each smtpd process (smtpd-process.ts) read
 * the same files through this module, so both see the same services in the same order.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPostfixConfig, type PostfixConfig } from '../../shared/config/postfix/config.js';
import { effectiveServices, entryParams, parseMasterCf, type MasterEntry } from '../../shared/config/postfix/master-cf.js';
import { ConfigOpenError, strerror } from '../../shared/errors/config-error.js';

export interface MasterService {
  entry: MasterEntry;
  /** master.cf's service name (`smtp`, `127.0.0.1:2525`, `submission`, `discard` …). */
  name: string;
  /** `inet`, `unix`, `fifo`, `pass` … */
  type: string;
  /** The command (`smtpd`, `discard`, `lmtp` …). */
  command: string;
  /** main.cf plus this entry's `-o` overrides and service_name. */
  config: PostfixConfig;
}

/** The effective services of `configDir/master.cf`, in file order. Throws ConfigOpenError. */
export function readMasterServices(configDir: string): MasterService[] {
  const masterPath = join(configDir, 'master.cf');
  let masterText: string;
  try {
    masterText = readFileSync(masterPath, 'utf8');
  } catch (err) {
    throw new ConfigOpenError(masterPath, strerror(err));
  }
  const master = parseMasterCf(masterText, masterPath);
  return effectiveServices(master).map((entry) => {
    const name = entry.argv[0]!;
    const overrides: Record<string, string> = { service_name: name };
    for (const [k, v] of entryParams(entry.argv)) overrides[k] = v;
    const config = loadPostfixConfig({ configDir, overrides });
    return { entry, name, type: entry.argv[1]!, command: entry.argv[7]!, config };
  });
}

export class UnknownServiceError extends Error {
  override readonly name = 'UnknownServiceError';
}

/** Well-known service ports for master.cf names that are not numbers (getservbyname). */
const SERVICE_PORTS: Record<string, number> = { smtp: 25, submission: 587, submissions: 465, smtps: 465, lmtp: 24 };

/** Listening addresses of an inet service: `[host]:port`, `host:port` or `port` (then inet_interfaces). */
export function inetEndpoints(name: string, cfg: PostfixConfig): Array<{ host: string; port: number }> {
  let host: string | undefined;
  let portText = name;
  const m = /^\[([^\]]*)\]:(.+)$/.exec(name) ?? /^([^:[\]]*):([^:]+)$/.exec(name);
  if (m) {
    host = m[1]!;
    portText = m[2]!;
  }
  const port = /^\d+$/.test(portText) ? Number(portText) : SERVICE_PORTS[portText];
  if (port === undefined) throw new UnknownServiceError(`unknown service: ${portText}/tcp`);
  if (host !== undefined && host !== '') return [{ host, port }];
  const protocols = cfg.getList('inet_protocols').map((x) => x.toLowerCase());
  const v4 = protocols.includes('all') || protocols.includes('ipv4');
  const v6 = protocols.includes('all') || protocols.includes('ipv6');
  const out: Array<{ host: string; port: number }> = [];
  for (const i of cfg.getList('inet_interfaces').map((x) => x.toLowerCase())) {
    if (i === 'all') {
      out.push({ host: v6 ? '::' : '0.0.0.0', port });
    } else if (i === 'loopback-only') {
      if (v4) out.push({ host: '127.0.0.1', port });
      if (v6) out.push({ host: '::1', port });
    } else {
      out.push({ host: i.replace(/^\[|\]$/g, ''), port });
    }
  }
  return out;
}

/** One listening address of an `inet … smtpd` service. */
export interface SmtpdEndpoint {
  /** The service's master.cf name: the smtpd process finds the service's configuration by it. */
  readonly service: string;
  readonly host: string;
  readonly port: number;
}

/** A map key for an endpoint: the same address of the same service in the master and in a process. */
export function endpointKey(ep: SmtpdEndpoint): string {
  return `${ep.service} ${ep.host} ${ep.port}`;
}

/** Every listening address of every `inet … smtpd` service, in master.cf order. */
export function smtpdEndpoints(services: readonly MasterService[]): SmtpdEndpoint[] {
  const out: SmtpdEndpoint[] = [];
  for (const s of services) {
    if (s.type !== 'inet' || s.command !== 'smtpd') continue;
    for (const e of inetEndpoints(s.name, s.config)) out.push({ service: s.name, host: e.host, port: e.port });
  }
  return out;
}
