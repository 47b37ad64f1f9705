/*
 * How the queue tools find their configuration, as Postfix's do: `-c dir` (sendmail/mailq: `-C`),
 * else the MAIL_CONFIG environment variable, else /etc/postfix; then main.cf through the shared
 * loader, and queue_directory must exist (Postfix chdir()s into it first:
 * `postqueue: fatal: chdir /var/spool/postfix: No such file or directory`).
 */
import { statSync } from 'node:fs';
import { DEFAULT_CONFIG_DIR, loadPostfixConfig } from '../../shared/config/postfix/config.js';
import { strerror } from '../../shared/errors/config-error.js';
import type { Diag } from '../../shared/cli/diag.js';
import { queueSettings, type QueueSettings } from '../queue/settings.js';

export function configDirFrom(option: string | undefined, env: NodeJS.ProcessEnv): string {
  return option ?? (env.MAIL_CONFIG && env.MAIL_CONFIG !== '' ? env.MAIL_CONFIG : DEFAULT_CONFIG_DIR);
}

/** Loads the queue settings or ends the tool with Postfix's fatal message and `status`. */
export function loadQueueSettings(configDir: string, diag: Diag, status: number): QueueSettings {
  let settings: QueueSettings;
  try {
    settings = queueSettings(loadPostfixConfig({ configDir }));
  } catch (err) {
    return diag.fatal((err as Error).message, status);
  }
  try {
    if (!statSync(settings.queueDirectory).isDirectory()) throw Object.assign(new Error(), { code: 'ENOTDIR' });
  } catch (err) {
    return diag.fatal(`chdir ${settings.queueDirectory}: ${strerror(err)}`, status);
  }
  return settings;
}
