/*
 * A scripted LMTP server for client tests: records every byte read (to check pipelining and the
 * exact commands), answers per recipient from a table, and can stall or drop at a chosen step.
 */
import { createServer, type Server, type Socket } from 'node:net';

export interface FakeLmtpScript {
  capabilities?: string[];
  greeting?: string;
  /** Reply to RCPT TO:<addr>; default 250 2.1.5 OK. */
  rcpt?: (addr: string) => string;
  /** Reply per accepted recipient after the final dot; default `250 2.0.0 <addr> Saved`. */
  dataDone?: (addr: string) => string;
  mail?: string;
  /** Never answer after the final dot (for crash tests). */
  stallAtDataEnd?: boolean;
}

export interface FakeLmtp {
  server: Server;
  /** Every chunk received, per connection. */
  reads: string[][];
  /** Commands (lines outside DATA), per connection. */
  commands: string[][];
  bodies: string[];
  close(): Promise<void>;
}

export async function startFakeLmtp(listen: string | { port: number; host: string }, script: FakeLmtpScript = {}): Promise<FakeLmtp & { port: number }> {
  const reads: string[][] = [];
  const commands: string[][] = [];
  const bodies: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    sock.setEncoding('latin1');
    const myReads: string[] = [];
    const myCmds: string[] = [];
    reads.push(myReads);
    commands.push(myCmds);
    let buf = '';
    let inData = false;
    let body = '';
    let accepted: string[] = [];
    sock.write(`${script.greeting ?? '220 fake.test LMTP ready'}\r\n`);
    sock.on('data', (d: string) => {
      myReads.push(d);
      buf += d;
      for (;;) {
        const nl = buf.indexOf('\r\n');
        if (nl < 0) break;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            bodies.push(body);
            body = '';
            if (script.stallAtDataEnd) continue;
            for (const a of accepted) sock.write(`${script.dataDone?.(a) ?? `250 2.0.0 <${a}> Saved`}\r\n`);
            accepted = [];
          } else {
            body += `${line}\r\n`;
          }
          continue;
        }
        myCmds.push(line);
        const verb = line.split(/[ :]/)[0]!.toUpperCase();
        if (verb === 'LHLO') {
          const caps = script.capabilities ?? ['PIPELINING', 'ENHANCEDSTATUSCODES', '8BITMIME'];
          sock.write(['fake.test', ...caps].map((c, i, a) => `250${i === a.length - 1 ? ' ' : '-'}${c}\r\n`).join(''));
        } else if (verb === 'MAIL') {
          accepted = [];
          sock.write(`${script.mail ?? '250 2.1.0 OK'}\r\n`);
        } else if (verb === 'RCPT') {
          const addr = /<([^>]*)>/.exec(line)?.[1] ?? '';
          const r = script.rcpt?.(addr) ?? '250 2.1.5 OK';
          if (r.startsWith('2')) accepted.push(addr);
          sock.write(`${r}\r\n`);
        } else if (verb === 'DATA') {
          if (accepted.length === 0) sock.write('503 5.5.1 No valid recipients\r\n');
          else {
            inData = true;
            sock.write('354 OK\r\n');
          }
        } else if (verb === 'RSET') sock.write('250 2.0.0 OK\r\n');
        else if (verb === 'QUIT') sock.end('221 2.0.0 Bye\r\n');
        else sock.write('500 5.5.1 Unknown command\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => {
    if (typeof listen === 'string') server.listen(listen, resolve);
    else server.listen(listen.port, listen.host, resolve);
  });
  const addr = server.address();
  return {
    server,
    reads,
    commands,
    bodies,
    port: typeof addr === 'object' && addr ? addr.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
