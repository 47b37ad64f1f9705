/*
 * Runs a real mail client (mbsync, mutt) as a child process while our IMAP server keeps running
 * in this process (so never spawnSync), with a deadline; outputs as UTF-8 text.
 */
import { spawn } from 'node:child_process';

export interface ClientRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runClient(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; timeoutMs?: number } = {}): Promise<ClientRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} timed out; stdout: ${stdout}; stderr: ${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}
