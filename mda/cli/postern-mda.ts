/*
 * `postern-mda -c /path/dovecot.conf`: runs the MDA daemon (mda/main.ts) in the foreground until
 * SIGTERM/SIGINT; SIGHUP reloads. A start-up failure prints `postern-mda: Fatal: …` and exits 89,
 * Dovecot's FATAL_DEFAULT status. Reads argv only here.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dovecotDiag, runCli, type Diag } from '../../shared/cli/diag.js';
import { startMda } from '../main.js';
import { startIdleGc } from '../../shared/idle-gc.js';

export const DEFAULT_CONFIG = '/etc/dovecot/dovecot.conf';
export const FATAL_DEFAULT = 89;

/** Parses `[-F] [-c FILE]`; returns undefined for a usage error. */
export function parseDaemonArgs(argv: readonly string[]): { config: string; foreground: boolean; rest: string[] } | undefined {
  let config = DEFAULT_CONFIG;
  let foreground = false;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-F') foreground = true;
    else if (a === '-c') {
      const v = argv[++i];
      if (v === undefined) return undefined;
      config = v;
    } else if (a.startsWith('-c') && a.length > 2) config = a.slice(2);
    else if (a.startsWith('-')) return undefined;
    else rest.push(a);
  }
  return { config, foreground, rest };
}

export async function runForeground(prog: string, config: string): Promise<number> {
  const diag: Diag = dovecotDiag(prog);
  try {
    await startMda({ configPath: config });
    startIdleGc();
  } catch (err) {
    diag.fatal(err instanceof Error ? err.message : String(err), FATAL_DEFAULT);
  }
  // Keep running: the listeners hold the event loop; signals end the process.
  return new Promise<number>(() => undefined);
}

const isMain = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  void runCli(async () => {
    const a = parseDaemonArgs(process.argv.slice(2));
    if (a === undefined || a.rest.length > 0) {
      process.stderr.write('Usage: postern-mda [-c <config file>]\n');
      return 64;
    }
    return runForeground('postern-mda', a.config);
  });
}
