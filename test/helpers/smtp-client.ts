/*
 * A minimal SMTP client for tests: sends lines one reply at a time and returns every reply
 * (multi-line replies joined), with a deadline so a silent server fails the test instead of hanging.
 */
import { connect } from 'node:net';

export async function smtpSession(port: number, lines: readonly string[], host = '127.0.0.1', timeoutMs = 20_000): Promise<string[]> {
  const sock = connect(port, host);
  sock.setEncoding('latin1');
  let buf = '';
  const replies: string[] = [];
  let waiter: (() => void) | undefined;
  let failure: Error | undefined;
  sock.on('data', (d: string) => {
    buf += d;
    let m: RegExpExecArray | null;
    while ((m = /^(\d{3}) .*\r\n/m.exec(buf))) {
      const end = m.index + m[0].length;
      replies.push(buf.slice(0, end).trimEnd());
      buf = buf.slice(end);
      waiter?.();
    }
  });
  sock.on('error', (err) => {
    failure = err;
    waiter?.();
  });
  sock.on('close', () => {
    failure ??= new Error('connection closed');
    waiter?.();
  });
  const timer = setTimeout(() => {
    failure = new Error(`SMTP session timed out after ${replies.length} replies`);
    waiter?.();
  }, timeoutMs);
  const next = async (n: number) => {
    while (replies.length < n) {
      if (failure) throw failure;
      await new Promise<void>((r) => (waiter = r));
    }
  };
  try {
    await next(1);
    for (const [i, l] of lines.entries()) {
      sock.write(`${l}\r\n`);
      await next(i + 2);
    }
  } finally {
    clearTimeout(timer);
    sock.end();
  }
  return replies;
}
