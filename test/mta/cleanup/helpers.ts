/* Shared fixtures for the cleanup tests: a real QueueStore in a temp dir and a memory logger. */
import type { TestContext } from 'node:test';
import { tempDir } from '../../helpers/tmp.js';
import { QueueStore } from '../../../mta/queue/store.js';
import { postfixLogger } from '../../../shared/log/logger.js';
import { memorySink } from '../../../shared/log/sink.js';
import { createCleanup, type CleanupDeps } from '../../../mta/cleanup/service.js';
import { defaultCleanupSettings, type CleanupSettings } from '../../../mta/cleanup/settings.js';
import { identityAddressMaps, type CleanupAddressMaps } from '../../../mta/cleanup/address-maps.js';

export const NOW = new Date(Date.UTC(2026, 10, 27, 17, 42, 39));

export function cleanupFixture(
  t: TestContext,
  over: { settings?: Partial<CleanupSettings>; maps?: Partial<CleanupAddressMaps>; deps?: Partial<CleanupDeps> } = {},
) {
  const queueDirectory = tempDir(t, 'postern-cleanup-');
  const store = QueueStore.open({ queueDirectory });
  t.after(() => store.close());
  const sink = memorySink();
  const log = postfixLogger({ sink, host: 'mx', syslogName: 'postfix', program: 'cleanup', pid: 1 });
  const settings = defaultCleanupSettings({ myhostname: 'mx.example.test', myorigin: 'example.test', ...over.settings });
  const maps = { ...identityAddressMaps('example.test'), ...over.maps };
  const cleanup = createCleanup({ store, settings, maps, log, now: () => NOW, interfaceAddresses: ['127.0.0.1'], ...over.deps });
  const logLines = () => sink.lines.map((l) => l.replace(/^.*?postfix\/cleanup\[1\]: /, '').trimEnd());
  return { store, cleanup, logLines, queueDirectory };
}
