/*
 * Real Dovecot's imap binary driven one command at a time (no pipelining), so replies can be
 * compared command by command with ours when untagged updates (EXPUNGE, FETCH FLAGS, ESEARCH
 * ADDTO/REMOVEFROM) matter. The binary runs pre-authenticated as in dovecot-instance.ts; stdout is
 * a regular file (the imap binary refuses a socket on stdout) that is polled for the tagged reply.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOVECOT_IMAP, type DovecotInstance } from '../../../helpers/dovecot-instance.js';

export interface InteractiveImap {
  /** Sends `tag cmd` and resolves with the raw reply bytes (latin1) up to and including the tagged line. */
  cmd(tag: string, cmd: string): Promise<string>;
  close(): Promise<void>;
}

export function dovecotInteractive(dc: DovecotInstance): InteractiveImap {
  const outPath = join(dc.dir, `interactive.${process.hrtime.bigint()}`);
  const fd = openSync(outPath, 'w+');
  const child: ChildProcess = spawn(DOVECOT_IMAP, ['-c', dc.conf], {
    stdio: ['pipe', fd, 'pipe'],
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', USER: dc.user, HOME: dc.home, MAIL: `maildir:${dc.maildir}` },
  });
  let consumed = 0;
  const read = (): string => readFileSync(outPath).toString('latin1');
  return {
    async cmd(tag, cmd) {
      child.stdin!.write(Buffer.from(`${tag} ${cmd}\r\n`, 'latin1'));
      const deadline = Date.now() + 20_000;
      const re = new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r]*\\r\\n`);
      for (;;) {
        const all = read();
        const rest = all.slice(consumed);
        const m = re.exec(rest);
        if (m) {
          const end = m.index + m[0].length;
          consumed += end;
          return rest.slice(0, end);
        }
        if (Date.now() > deadline) throw new Error(`dovecot imap: no reply to ${tag} ${cmd}: ${rest}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      child.stdin!.end('zz LOGOUT\r\n');
      await new Promise<void>((r) => {
        if (child.exitCode !== null) r();
        else child.once('exit', () => r());
      });
      closeSync(fd);
    },
  };
}
