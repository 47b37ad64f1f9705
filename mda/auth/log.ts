/*
 * The logging seam of the auth service: a prefixed Dovecot-style logger ("auth: Info: …",
 * "auth: Error: …") is passed in by the entry point (shared/log's dovecotLogger('auth') fits);
 * tests pass a collector. Texts come from mda/log-events.ts or are fixed strings with sanitised
 * names; a password never reaches this interface.
 */
export interface AuthLog {
  info(text: string): void;
  error(text: string): void;
  warn?(text: string): void;
  debug?(text: string): void;
}

export const silentLog: AuthLog = { info: () => undefined, error: () => undefined };
