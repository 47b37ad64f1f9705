/*
 * A tiny SMTP client for the policy interop test: connects from a chosen loopback source address
 * (so one real Postfix sees several "clients"), sends commands one at a time and returns each
 * reply as `CODE text` on one line (multi-line replies joined with a space). Every read times out.
 */
import { connect } from 'node:net';

export async function smtpSession(host: string, port: number, localAddress: string, commands: readonly string[], timeoutMs = 20_000): Promise<string[]> {
  const sock = connect({ host, port, localAddress });
  sock.setEncoding('utf8');
  let buf = '';
  let closed = false;
  let wake: () => void = () => undefined;
  sock.on('data', (d: string) => {
    buf += d;
    wake();
  });
  sock.on('close', () => {
    closed = true;
    wake();
  });
  sock.on('error', () => undefined);
  const readReply = async (): Promise<string> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const m = /^((?:\d{3}-[^\r\n]*\r\n)*)(\d{3})(?: ([^\r\n]*))?\r\n/.exec(buf);
      if (m) {
        buf = buf.slice(m[0].length);
        const lines = [...m[1]!.split('\r\n').filter((l) => l !== '').map((l) => l.slice(4)), m[3] ?? ''];
        return `${m[2]} ${lines.join(' ')}`.trim();
      }
      if (closed) return 'CLOSED';
      if (Date.now() > end) throw new Error(`no reply; partial ${JSON.stringify(buf)}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100);
      });
    }
  };
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    const out: string[] = [await readReply()];
    for (const c of commands) {
      sock.write(`${c}\r\n`);
      out.push(await readReply());
    }
    return out;
  } finally {
    sock.destroy();
  }
}
