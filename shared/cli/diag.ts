/*
 * Diagnostics for the command-line tools, in the shape Postfix's msg(3) and Dovecot's i_*()
 * print them on stderr: `postconf: warning: …`, `postmap: fatal: …`, `doveconf: Fatal: …`.
 * Fatal exits with status 1 as both programs do (Postfix msg_fatal → exit(1); Dovecot FATAL_DEFAULT → 89
 * for daemons, but doveconf/doveadm print and exit 1 for configuration errors).
 */

export class CliExit extends Error {
  override readonly name = 'CliExit';
  constructor(readonly status: number) {
    super(`exit ${status}`);
  }
}

export interface Diag {
  warn(msg: string): void;
  info(msg: string): void;
  /** Prints the fatal message and throws CliExit(status); the entry point turns it into process.exitCode. */
  fatal(msg: string, status?: number): never;
}

/** Postfix-style: `prog: warning: msg`, `prog: fatal: msg`, info lines as `prog: msg`. */
export function postfixDiag(prog: string, stderr: (s: string) => void = (s) => process.stderr.write(s)): Diag {
  return {
    warn: (msg) => stderr(`${prog}: warning: ${msg}\n`),
    info: (msg) => stderr(`${prog}: ${msg}\n`),
    fatal: (msg, status = 1) => {
      stderr(`${prog}: fatal: ${msg}\n`);
      throw new CliExit(status);
    },
  };
}

/** Dovecot-style: `prog: Warning: msg`, `prog: Fatal: msg`. */
export function dovecotDiag(prog: string, stderr: (s: string) => void = (s) => process.stderr.write(s)): Diag {
  return {
    warn: (msg) => stderr(`${prog}: Warning: ${msg}\n`),
    info: (msg) => stderr(`${prog}: Info: ${msg}\n`),
    fatal: (msg, status = 1) => {
      stderr(`${prog}: Fatal: ${msg}\n`);
      throw new CliExit(status);
    },
  };
}

/** Runs a CLI main function; CliExit becomes the exit status, anything else is a crash (status 1). */
export async function runCli(main: () => Promise<number | void> | number | void): Promise<void> {
  try {
    const status = await main();
    process.exitCode = typeof status === 'number' ? status : 0;
  } catch (err) {
    if (err instanceof CliExit) {
      process.exitCode = err.status;
      return;
    }
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  }
}
