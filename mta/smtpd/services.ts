/*
 * Starts every master.cf `inet … smtpd` service: one smtpd listener per address, with the
 * service's own configuration (main.cf + -o overrides: syslog_name, smtpd_tls_wrappermode …), the
 * restriction engine, Dovecot SASL when enabled and TLS credentials when configured. Used by the
 * MTA main when smtpd runs in the master process, and by each smtpd process otherwise
 * (mta/master/smtpd-process.ts), which is given the listening sockets the master bound.
 */
import type { Server } from 'node:net';
import type { Log } from '../../shared/log/logger.js';
import { loadPostfixCredentials } from '../../shared/tls/credentials.js';
import type { Cleanup } from '../cleanup/api.js';
import type { MasterService, SmtpdEndpoint } from '../master/services.js';
import { smtpdEndpoints } from '../master/services.js';
import { createSmtpdPolicy } from './policy/engine.js';
import type { PostfixResolver } from '../resolve/resolver.js';
import { DovecotSaslClient, resolveSaslPath } from './sasl/dovecot-client.js';
import { startSmtpd } from './server.js';

export interface SmtpdServicesDeps {
  services: readonly MasterService[];
  resolver: PostfixResolver;
  cleanup: Cleanup;
  logger(program: string, syslogName?: string): Log;
  /** ETRN: smtpd has checked fast_flush_domains; the site's deferred mail is to become due now. */
  etrn(domain: string): Promise<boolean>;
  /** A listening socket bound elsewhere for this address (smtpd processes); absent = listen here. */
  listenerFor?: (endpoint: SmtpdEndpoint) => Server | undefined;
}

export interface RunningService {
  close(): Promise<void>;
}

export async function startSmtpdServices(deps: SmtpdServicesDeps): Promise<RunningService[]> {
  const out: RunningService[] = [];
  const endpoints = smtpdEndpoints(deps.services);
  try {
    for (const s of deps.services) {
      if (s.type !== 'inet' || s.command !== 'smtpd') continue;
      const c = s.config;
      const syslog = c.get('syslog_name') || 'postfix';
      const log = deps.logger('smtpd', syslog);
      const policy = createSmtpdPolicy(c, { resolver: deps.resolver, log: (line) => log.info(line) });
      let sasl: DovecotSaslClient | undefined;
      if (c.getBool('smtpd_sasl_auth_enable') && c.get('smtpd_sasl_type') === 'dovecot') {
        sasl = new DovecotSaslClient({ endpoint: resolveSaslPath(c.get('smtpd_sasl_path'), c.get('queue_directory')) });
      }
      const credentials = loadPostfixCredentials({
        chainFiles: c.getList('smtpd_tls_chain_files'),
        certFile: c.get('smtpd_tls_cert_file'),
        keyFile: c.get('smtpd_tls_key_file'),
        eccertFile: c.get('smtpd_tls_eccert_file'),
        eckeyFile: c.get('smtpd_tls_eckey_file'),
      });
      for (const ep of endpoints.filter((e) => e.service === s.name)) {
        const server = deps.listenerFor?.(ep);
        const h = await startSmtpd({
          config: c,
          listen: server ? { server } : { host: ep.host, port: ep.port },
          cleanup: deps.cleanup, policy, sasl, credentials, log,
          qualify: (a) => deps.resolver.qualify(a),
          etrn: deps.etrn,
        });
        out.push({ close: async () => { await h.close(); sasl?.close(); policy.close?.(); } });
      }
    }
  } catch (err) {
    await Promise.allSettled(out.map((x) => x.close()));
    throw err;
  }
  return out;
}
