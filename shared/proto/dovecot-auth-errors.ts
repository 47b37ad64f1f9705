/*
 * The syntax error of Dovecot's TAB-separated auth protocols (auth-client 1.x, auth-master 1.x).
 * Dovecot answers a broken line by logging "BUG: … sent broken … request" and disconnecting; the
 * adapters do the same when they catch this.
 */
export class DovecotAuthSyntaxError extends Error {
  override readonly name = 'DovecotAuthSyntaxError';
  constructor(readonly detail: string) {
    super(detail);
  }
}
