/*
 * What every doveadm command runs with: the parsed global options, the configuration (with `-o`
 * overrides applied on lookup), the auth service built from it (mda/auth/config-adapter.ts), the
 * output printer, diagnostics on stderr and the exit code. Exit codes are sysexits.h values as
 * doveadm uses them; a later failure does not overwrite an earlier one except a temporary one
 * (doveadm_mail_failed_error()).
 */
import { loadDovecotConfig, type DovecotConfig } from '../../../shared/config/dovecot/config.js';
import { authFromDovecotConfig } from '../../auth/config-adapter.js';
import type { AuthService } from '../../auth/auth-service.js';
import type { StorageErrorKind } from '../../storage/api.js';
import type { GlobalOptions } from './args.js';
import { DoveadmPrinter, type PrintFormat } from './print.js';

export const EX_USAGE = 64;
export const EX_DATAERR = 65;
export const EX_NOUSER = 67;
/** DOVEADM_EX_NOTFOUND (EX_NOHOST). */
export const EX_NOTFOUND = 68;
export const EX_SOFTWARE = 70;
export const EX_CANTCREAT = 73;
export const EX_TEMPFAIL = 75;
export const EX_NOPERM = 77;
export const EX_CONFIG = 78;
/** Dovecot's FATAL_DEFAULT (i_fatal()). */
export const EX_FATAL = 89;

export interface DoveadmIo {
  stdout(s: string | Buffer): void;
  stderr(s: string): void;
  /** Terminal width when stdout is a tty (table formatter); 80 otherwise. */
  readonly columns?: number;
  /** Environment (USER for mail commands without -u). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Thrown to stop a command with an exit code after its message was printed. */
export class DoveadmExit extends Error {
  override readonly name = 'DoveadmExit';
  constructor(readonly status: number) {
    super(`exit ${status}`);
  }
}

/** The exit code doveadm uses for a storage error kind (doveadm_mail_failed_error()). */
export function exitForStorage(kind: StorageErrorKind): number {
  switch (kind) {
    case 'NOTFOUND': return EX_NOTFOUND;
    case 'EXISTS':
    case 'NOTPOSSIBLE': return EX_DATAERR;
    case 'PARAMS': return EX_USAGE;
    case 'PERM': return EX_NOPERM;
    case 'NOQUOTA': return EX_CANTCREAT;
    default: return EX_TEMPFAIL;
  }
}

export class DoveadmContext {
  exitCode = 0;
  /** The user a mail command is working for (prefix of fatal messages). */
  currentUser: string | undefined;
  private cfg: DovecotConfig | undefined;
  private authService: AuthService | undefined;
  private printerInstance: DoveadmPrinter | undefined;

  constructor(readonly opts: GlobalOptions, readonly io: DoveadmIo) {}

  config(): DovecotConfig {
    return (this.cfg ??= loadDovecotConfig(this.opts.config));
  }

  /** A top-level setting, `-o key=value` taking precedence. */
  setting(key: string): string {
    for (let i = this.opts.overrides.length - 1; i >= 0; i--) {
      const [k, v] = this.opts.overrides[i]!;
      if (k === key) return v;
    }
    return this.config().get(key);
  }

  auth(): AuthService {
    return (this.authService ??= authFromDovecotConfig(this.config()).service);
  }

  /** The printer, created on first use with `-f` or the command's default format. */
  printer(defaultFormat: PrintFormat): DoveadmPrinter {
    return (this.printerInstance ??= new DoveadmPrinter(this.opts.format ?? defaultFormat, this.io.columns ?? 80, this.opts.hideTitles));
  }

  hasPrinter(): boolean {
    return this.printerInstance !== undefined;
  }

  /** Records a failure; a temporary failure may be replaced by a more specific one. */
  fail(code: number): void {
    if (this.exitCode === 0 || this.exitCode === EX_TEMPFAIL) this.exitCode = code;
  }

  /** `doveadm(user): Error: text` as i_error() prints it in a mail command. */
  userError(user: string, text: string): void {
    this.io.stderr(`doveadm(${user}): Error: ${text}\n`);
  }

  error(text: string): void {
    this.io.stderr(`Error: ${text}\n`);
  }

  fatal(text: string, status = EX_FATAL): never {
    this.io.stderr(`Fatal: ${text}\n`);
    throw new DoveadmExit(status);
  }

  /** Writes the printer's output (flushing the formatter) to stdout. */
  finish(): void {
    if (this.printerInstance === undefined) return;
    this.printerInstance.flush();
    const out = this.printerInstance.result();
    if (out.length > 0) this.io.stdout(out);
  }
}
