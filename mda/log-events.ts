/*
 * The MDA's closed list of log events, with the text Dovecot 2.3 logs for each (reference/dovecot.md
 * and transcripts; fail2ban's dovecot filter keys on the login and auth lines). The prefix
 * ("imap-login", "imap(alice)<pid><session>", "auth", "lmtp(alice)<pid><session>") is the logger's.
 */

export interface LoginInfo {
  user: string;
  method: string;
  rip: string;
  lip: string;
  /** The mail process pid Dovecot reports as mpid; ours is the daemon's pid. */
  mpid: number;
  /** TLS was in use. */
  tls: boolean;
  /** Loopback or TLS: Dovecot writes "secured" when the connection counts as secure without TLS. */
  secured: boolean;
  session: string;
}

export interface LoginFailure {
  /** e.g. "auth failed, 1 attempts in 2 secs" */
  reason: string;
  user?: string;
  method?: string;
  rip: string;
  lip: string;
  tls: boolean;
  secured: boolean;
  session: string;
}

function connFlags(tls: boolean, secured: boolean): string {
  if (tls) return ', TLS';
  return secured ? ', secured' : '';
}

export const mdaEvents = {
  login: {
    /** `imap-login: Info: Login: user=<alice>, method=PLAIN, rip=…, lip=…, mpid=…, secured, session=<…>` */
    success: (l: LoginInfo) =>
      `Login: user=<${l.user}>, method=${l.method}, rip=${l.rip}, lip=${l.lip}, mpid=${l.mpid}` +
      `${connFlags(l.tls, l.secured)}, session=<${l.session}>`,
    /** `imap-login: Info: Disconnected (auth failed, 1 attempts in 2 secs): user=<alice>, method=PLAIN, rip=…` */
    disconnected: (f: LoginFailure) =>
      `Disconnected (${f.reason}):` +
      `${f.user !== undefined ? ` user=<${f.user}>,` : ''}${f.method !== undefined ? ` method=${f.method},` : ''}` +
      ` rip=${f.rip}, lip=${f.lip}${connFlags(f.tls, f.secured)}, session=<${f.session}>`,
  },
  mail: {
    /** `imap(alice)<…>: Info: Disconnected: Logged out in=… out=…` */
    imapLoggedOut: (stats: string) => `Disconnected: Logged out ${stats}`,
    /** `pop3(alice)<…>: Info: Disconnected: Logged out top=0/0, retr=1/330, del=0/1, size=310` */
    pop3LoggedOut: (stats: string) => `Disconnected: Logged out ${stats}`,
  },
  auth: {
    /** `auth: Info: passwd-file(alice,127.0.0.1): unknown user` */
    unknownUser: (driver: string, user: string, rip: string) => `${driver}(${user},${rip}): unknown user`,
    /** `auth: Info: passwd-file(alice,127.0.0.1): Password mismatch` */
    passwordMismatch: (driver: string, user: string, rip: string) => `${driver}(${user},${rip}): Password mismatch`,
  },
  lmtp: {
    saved: (msgid: string, mailbox: string) => `msgid=${msgid}: saved mail to ${mailbox}`,
    saveFailed: (msgid: string, reason: string) => `msgid=${msgid}: save failed to open mailbox ${reason}`,
  },
} as const;
