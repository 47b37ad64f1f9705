/*
 * Typed errors of the auth service.
 *
 * Follows Dovecot's split between what a client may see and what goes to the log: `clientText`
 * is safe to send on an auth socket (`reason=`), `message` is log detail. Nothing here ever
 * carries a password.
 */

/** A stored password that cannot be used: unknown `{SCHEME}`, bad encoding, bad length. */
export class PasswordSchemeError extends Error {
  override readonly name = 'PasswordSchemeError';
  constructor(
    readonly scheme: string,
    readonly detail: string,
  ) {
    super(`${scheme}: ${detail}`);
  }
}

/** A passdb/userdb backend that could not answer (unreadable file, duplicate user…): temporary. */
export class AuthBackendError extends Error {
  override readonly name = 'AuthBackendError';
  constructor(
    readonly backend: string,
    readonly detail: string,
  ) {
    super(`${backend}: ${detail}`);
  }
}
