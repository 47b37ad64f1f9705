/*
 * postern-mta: the MTA daemon in the foreground. `postern-mta [-c config_dir]` (else MAIL_CONFIG,
 * else /etc/postfix). Exits 0 after SIGTERM/SIGINT (graceful) or SIGQUIT (abandon in-flight
 * deliveries at once); configuration and start-up errors are printed Postfix-style
 * (`postfix/master: fatal: …`) with exit status 1.
 */
import { configDirFrom } from './queue-config.js';
import { startMta, MtaStartError } from '../main.js';
import { startIdleGc } from '../../shared/idle-gc.js';

function usage(): never {
  process.stderr.write('usage: postern-mta [-c config_dir]\n');
  process.exit(64);
}

async function main(argv: string[]): Promise<void> {
  let dir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-c' && i + 1 < argv.length) dir = argv[++i];
    else if (a.startsWith('-c') && a.length > 2) dir = a.slice(2);
    else if (a === '-d' || a === '-v' || a === '-s') continue; // master(8) flags: always foreground here
    else usage();
  }
  const configDir = configDirFrom(dir, process.env);
  let handle;
  try {
    handle = await startMta({ configDir });
  } catch (err) {
    const msg = err instanceof MtaStartError ? err.message : (err as Error).message;
    process.stderr.write(`postfix/master: fatal: ${msg}\n`);
    process.exit(1);
  }
  const h = handle;
  startIdleGc();
  const onSignal = (sig: NodeJS.Signals, num: number, grace?: number) => {
    process.on(sig, () => {
      void h.stop(grace, num).then(() => process.exit(0), () => process.exit(1));
    });
  };
  onSignal('SIGTERM', 15);
  onSignal('SIGINT', 2);
  onSignal('SIGQUIT', 3, 0);
  process.on('SIGHUP', () => h.reload());
}

void main(process.argv.slice(2));
