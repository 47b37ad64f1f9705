/*
 * The two MTA peers on the same main.cf settings: a private real Postfix 3.7
 * (test/helpers/postfix-instance.ts: own config, queue and maillog in a temp dir, smtpd on a free
 * loopback port) and ours (`node dist/mta/cli/postern-mta.js -c DIR` with main.cf + a master.cf
 * holding the smtpd listener and the transports used). Durability is each one's default: Postfix
 * fsyncs the queue file before 250, ours commits the LMDB queue with sync before 250.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/free-port.js';
import { makeTraversable, startPostfix } from '../test/helpers/postfix-instance.js';
import { benchDir, ourNodeArgs, type Side } from './mda-peers.js';
import { daemonEnv } from '../shared/daemon-flags.js';
import { hookContext } from './test-context.js';
import { removeLater } from './scratch.js';

const OUR_MTA = fileURLToPath(new URL('../mta/cli/postern-mta.js', import.meta.url));

export interface MtaPeer {
  readonly host: string;
  readonly port: number;
  readonly maillog: string;
  stop(): Promise<void>;
}

export const BENCH_MTA_MAIN: Readonly<Record<string, string>> = {
  mynetworks: '127.0.0.0/8',
  smtpd_relay_restrictions: 'permit_mynetworks, reject',
  mydestination: '',
};

export async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Whether our MTA daemon is built (the launcher's entry point exists). */
export function ourMtaBuilt(): boolean {
  return existsSync(OUR_MTA);
}

/** `smtpdProcesses`: our postern_smtpd_processes (BenchSettings.smtpdProcesses); Postfix ignores it. */
export async function startMtaPeer(side: Side, main: Readonly<Record<string, string>>, smtpdProcesses = 1): Promise<MtaPeer> {
  if (side === 'reference') {
    const hooks = hookContext();
    const pf = await startPostfix(hooks.t, { main: { ...BENCH_MTA_MAIN, ...main } });
    return { host: pf.host, port: pf.port, maillog: pf.maillog, stop: () => hooks.cleanup() };
  }
  const dir = benchDir('postern-bench-mta-');
  makeTraversable(dir);
  const port = await freePort();
  const queue = join(dir, 'queue');
  mkdirSync(queue, { mode: 0o755 });
  const maillog = join(dir, 'maillog');
  const all: Record<string, string> = {
    compatibility_level: '3.6',
    queue_directory: queue,
    data_directory: join(dir, 'data'),
    inet_interfaces: '127.0.0.1',
    inet_protocols: 'ipv4',
    myhostname: 'mx.test.example',
    maillog_file: maillog,
    alias_maps: '',
    alias_database: '',
    ...BENCH_MTA_MAIN,
    ...main,
    postern_smtpd_processes: String(smtpdProcesses),
  };
  writeFileSync(join(dir, 'main.cf'), Object.entries(all).map(([k, v]) => `${k} = ${v}`).join('\n') + '\n');
  writeFileSync(
    join(dir, 'master.cf'),
    `127.0.0.1:${port} inet n - n - - smtpd\ndiscard unix - - n - - discard\nlmtp unix - - n - - lmtp\nerror unix - - n - - error\n`,
  );
  const out = openSync(join(dir, 'stdout.log'), 'w');
  const child = spawn(process.execPath, [...ourNodeArgs(), OUR_MTA, '-c', dir], { stdio: ['ignore', out, out], env: daemonEnv(process.env) });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 30_000;
  while (!(await listening(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`our MTA did not start: ${readFileSync(join(dir, 'stdout.log'), 'utf8').slice(-1000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host: '127.0.0.1',
    port,
    maillog,
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      removeLater(dir);
    },
  };
}
