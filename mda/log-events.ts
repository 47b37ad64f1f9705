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

/** Why a login-process connection ended before a mail session (imap-login and pop3-login share the shape). */
export interface LoginDisconnect {
  /** "Connection closed", "Aborted login by logging out", "Inactivity", "Shutting down", "Input buffer full" … */
  reason: string;
  /** "no auth attempts in 0 secs", "auth failed, 1 attempts in 2 secs", "client didn't finish SASL auth, waited 4 secs" … */
  detail: string;
  /** The user name tried, '' when none. */
  user: string;
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
    /**
     * `imap-login: Info: Disconnected: Connection closed (auth failed, 1 attempts in 2 secs): user=<alice>, method=PLAIN, rip=…`
     * (Dovecot 2.3.19's shape, observed: the reason, then the detail, and `user=<>` when none was tried).
     */
    disconnected: (d: LoginDisconnect) =>
      `Disconnected: ${d.reason} (${d.detail}): user=<${d.user}>,${d.method !== undefined ? ` method=${d.method},` : ''}` +
      ` rip=${d.rip}, lip=${d.lip}${connFlags(d.tls, d.secured)}, session=<${d.session}>`,
  },
  mail: {
    /** `imap(alice)<…>: Info: Disconnected: Logged out in=… out=…` */
    imapLoggedOut: (stats: string) => `Disconnected: Logged out ${stats}`,
    /** `pop3(alice)<…>: Info: Disconnected: Logged out top=0/0, retr=1/330, del=0/1, size=310` */
    pop3LoggedOut: (stats: string) => `Disconnected: Logged out ${stats}`,
    /** `imap(alice)<…>: Info: Disconnected: Connection closed (IDLE finished 0.001 secs ago) in=… out=…` */
    imapDisconnected: (reason: string, stats: string) => `Disconnected: ${reason} ${stats}`,
    /** `imap(alice)<…>: Error: <log detail of an internal error>` (the client saw NO [SERVERBUG]). */
    imapInternalError: (command: string, detail: string) => `${command} failed: ${detail}`,
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
    /** `lmtp(bob)<…>: Info: msgid=<…>: save failed to INBOX: Quota exceeded (mailbox for user is full)` */
    saveFailedTo: (msgid: string, mailbox: string, reason: string) => `msgid=${msgid}: save failed to ${mailbox}: ${reason}`,
    /** `lmtp(12345): Info: Connect from 127.0.0.1` (`local` for a Unix socket). */
    connect: (remote: string) => `Connect from ${remote}`,
    /** `lmtp(12345): Info: Disconnect from local: Connection closed (state=READY)` */
    disconnect: (remote: string, reason: string, state: string) => `Disconnect from ${remote}: ${reason} (state=${state})`,
  },
  master: {
    /** `master: Info: Dovecot v2.3.19.1 (…) starting up for imap, pop3, lmtp` */
    startingUp: (version: string, protocols: string) => `Dovecot v${version} starting up for ${protocols}`,
    /** `master: Warning: SIGHUP received - reloading configuration` */
    reloading: () => 'SIGHUP received - reloading configuration',
    /** `master: Warning: Killed with signal 15 (by pid=… uid=…)` — we know only the signal. */
    killed: (signal: number) => `Killed with signal ${signal}`,
  },
} as const;

/** POP3 additions (pop3 lines as Dovecot 2.3.19 writes them; pop3-login shares mdaEvents.login). */
export const pop3Events = {
  /** `pop3(alice)<pid><session>: Info: Disconnected: Connection closed top=0/0, retr=0/0, del=0/4, size=2319` */
  disconnected: (reason: string, stats: string) => `Disconnected: ${reason} ${stats}`,
  /** `pop3(alice)<…>: Error: …` for a storage failure the client saw as -ERR [SYS/…]. */
  storageError: (context: string, detail: string) => `${context}: ${detail}`,
} as const;
