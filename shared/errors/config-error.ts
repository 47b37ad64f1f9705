/*
 * Typed errors for configuration files (main.cf, master.cf, lookup tables, dovecot.conf).
 *
 * The message is what the real program prints after its own prefix, so a CLI can print
 * `postconf: fatal: <message>` or Dovecot's `doveconf: Fatal: Error in configuration file …`
 * without re-wording. `file` and `line` are kept apart so tests can check them.
 */

/** A syntax or semantic error at a known place in a configuration file. */
export class ConfigSyntaxError extends Error {
  override readonly name = 'ConfigSyntaxError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
    message?: string,
  ) {
    super(message ?? `${file}, line ${line}: ${detail}`);
  }
}

/** A configuration file that could not be opened or read (ENOENT, EACCES …). */
export class ConfigOpenError extends Error {
  override readonly name = 'ConfigOpenError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`open ${file}: ${reason}`);
  }
}

/** Maps a Node fs error code to the strerror(3) text that C programs print. */
export function strerror(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT': return 'No such file or directory';
    case 'EACCES': return 'Permission denied';
    case 'EISDIR': return 'Is a directory';
    case 'ENOTDIR': return 'Not a directory';
    case 'EEXIST': return 'File exists';
    case 'ENOSPC': return 'No space left on device';
    case 'EROFS': return 'Read-only file system';
    case 'EPERM': return 'Operation not permitted';
    case 'ELOOP': return 'Too many levels of symbolic links';
    case 'ECONNREFUSED': return 'Connection refused';
    case 'ETIMEDOUT': return 'Connection timed out';
    default: return (err as Error | undefined)?.message ?? String(err);
  }
}
