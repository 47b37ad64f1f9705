/*
 * A tiny line client for the admin tests: connects over TCP, collects everything the server sends,
 * and waits for a line matching a pattern (or the close).
 */
import { connect, type Socket } from 'node:net';

export class LineClient {
  text = '';
  closed = false;
  private constructor(private readonly sock: Socket) {
    sock.on('data', (d: Buffer) => (this.text += d.toString('latin1')));
    sock.on('close', () => (this.closed = true));
    sock.on('error', () => undefined);
  }

  static async open(port: number): Promise<LineClient> {
    const sock = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    return new LineClient(sock);
  }

  send(s: string): void {
    this.sock.write(s, 'latin1');
  }

  async waitFor(re: RegExp, timeoutMs = 10_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    while (!re.test(this.text)) {
      if (Date.now() > end) throw new Error(`timeout waiting for ${re}; have ${JSON.stringify(this.text)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.text;
  }

  async waitClosed(timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > end) throw new Error('timeout waiting for close');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.sock.destroy();
  }
}

export async function imapLogin(port: number, user: string, pw = 'secret'): Promise<LineClient> {
  const c = await LineClient.open(port);
  await c.waitFor(/\r\n/);
  c.send(`a LOGIN ${user} ${pw}\r\n`);
  await c.waitFor(/a OK/);
  return c;
}

export async function pop3Login(port: number, user: string, pw = 'secret'): Promise<LineClient> {
  const c = await LineClient.open(port);
  await c.waitFor(/\r\n/);
  c.send(`USER ${user}\r\nPASS ${pw}\r\n`);
  await c.waitFor(/Logged in\.\r\n/);
  return c;
}
