/*
 * What the master (mta/main.ts) and each smtpd process (smtpd-process.ts) build from main.cf in the
 * same way: the loggers, the queue store, trivial-rewrite and cleanup. Built here once, so that
 * mail entering through an smtpd process is logged, queued, rewritten and cleaned up exactly as
 * mail entering through the master (pickup, bounces, smtpd in the master). Entry-point wiring
 * (DESIGN.md §2 rule 6): only those two entry points call it.
 */
import type { PostfixConfig } from '../../shared/config/postfix/config.js';
import { postfixLogger, type Log } from '../../shared/log/logger.js';
import type { LogSink } from '../../shared/log/sink.js';
import type { Cleanup } from '../cleanup/api.js';
import { createCleanup } from '../cleanup/service.js';
import { cleanupSettings } from '../cleanup/settings.js';
import { addressMapsFromResolver } from '../cleanup/resolver-maps.js';
import type { QueueSettings } from '../queue/settings.js';
import { QueueStore } from '../queue/store.js';
import { createResolveContext } from '../resolve/context.js';
import { createResolver, type PostfixResolver } from '../resolve/resolver.js';

/** `postfix/<program>[pid]` loggers into one sink (syslogName: a service's own syslog_name). */
export type MtaLogger = (program: string, syslogName?: string) => Log;

export function mtaLogger(cfg: PostfixConfig, sink: LogSink): MtaLogger {
  const host = cfg.get('myhostname');
  const syslogName = cfg.get('syslog_name') || 'postfix';
  return (program, name = syslogName) => postfixLogger({ sink, host, syslogName: name, program });
}

/** The queue under queue_directory; `idSlot` when several processes enqueue (queue-id.ts). */
export function openQueue(qs: QueueSettings, warn: (m: string) => void, idSlot?: { index: number; count: number }): QueueStore {
  return QueueStore.open({
    queueDirectory: qs.queueDirectory, longQueueIds: qs.longQueueIds, retry: qs, warn,
    ...(idSlot ? { idSlot } : {}),
  });
}

/** trivial-rewrite, and cleanup into `store` with its address maps. */
export function mtaRewriting(cfg: PostfixConfig, store: QueueStore, logger: MtaLogger): { resolver: PostfixResolver; cleanup: Cleanup } {
  const resolver = createResolver(createResolveContext(cfg, { warn: (m) => logger('trivial-rewrite').warn(m) }));
  const cleanup = createCleanup({ store, settings: cleanupSettings(cfg), maps: addressMapsFromResolver(resolver), log: logger('cleanup') });
  return { resolver, cleanup };
}
