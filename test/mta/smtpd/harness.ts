/*
 * Test harness for smtpd: starts Postern's smtpd on a free loopback port with a stub Cleanup (collects
 * submitted messages; queue IDs counted up) and a stub policy modelled on Postfix's defaults with
 * mynetworks empty (RCPT/VRFY outside `test.example` → `454 4.7.1 <addr>: Relay access denied` unless
 * authenticated), and a raw SMTP client that sends bytes and reads whole replies.
 */
import { connect, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { postfixConfigFromText } from '../../../shared/config/postfix/config.js';
import type { Cleanup, CleanupResult, IncomingMessage } from '../../../mta/cleanup/api.js';
import type { SmtpdPolicy, Decision } from '../../../mta/smtpd/policy/api.js';
import { startSmtpd, type SmtpdDeps, type SmtpdHandle } from '../../../mta/smtpd/server.js';
import type { Log } from '../../../shared/log/logger.js';

export interface Submitted {
  message: IncomingMessage;
  content: Buffer;
}

export class StubCleanup implements Cleanup {
  next = 0x1a2b3c;
  readonly submitted: Submitted[] = [];
  aborted = 0;
  allocateQueueId(): string {
    return `${(this.next++).toString(16).toUpperCase()}0000`;
  }
  async submit(message: IncomingMessage, content: AsyncIterable<Buffer> | Buffer | NodeJS.ReadableStream): Promise<CleanupResult> {
    const parts: Buffer[] = [];
    try {
      if (Buffer.isBuffer(content)) parts.push(content);
      else for await (const b of content as AsyncIterable<Buffer>) parts.push(b);
    } catch (err) {
      this.aborted++;
      throw err;
    }
    const buf = Buffer.concat(parts);
    this.submitted.push({ message, content: buf });
    const queueId = message.queueId ?? this.allocateQueueId();
    return { kind: 'queued', queueId, size: buf.length };
  }
}

export const relayPolicy = (localDomain = 'test.example'): SmtpdPolicy => ({
  async evaluate(stage, facts): Promise<Decision> {
    if ((stage === 'rcpt' || stage === 'vrfy') && facts.recipient !== undefined && !facts.sasl) {
      const at = facts.recipient.lastIndexOf('@');
      const domain = at < 0 ? '' : facts.recipient.slice(at + 1).toLowerCase();
      if (domain !== localDomain) {
        return { kind: 'defer', reply: { code: 454, enhanced: '4.7.1', text: `<${facts.recipient}>: Relay access denied` } };
      }
    }
    return { kind: 'accept' };
  },
});

export interface Ours {
  port: number;
  handle: SmtpdHandle;
  cleanup: StubCleanup;
  logs: string[];
}

export async function startOurs(t: TestContext, main: Record<string, string> = {}, extra: Partial<SmtpdDeps> = {}): Promise<Ours> {
  const text = Object.entries({
    myhostname: 'mx.test.example', mydestination: 'test.example', mynetworks: '', compatibility_level: '3.6',
    smtpd_banner: '$myhostname ESMTP Postfix', smtputf8_enable: 'yes', ...main,
  }).map(([k, v]) => `${k} = ${v}`).join('\n');
  const config = postfixConfigFromText(text, { configDir: '/nonexistent', host: { myhostname: 'mx.test.example' } as never });
  const logs: string[] = [];
  const log: Log = {
    info: (s) => logs.push(s), warn: (s) => logs.push(`warning: ${s}`),
    error: (s) => logs.push(`error: ${s}`), fatal: (s) => logs.push(`fatal: ${s}`),
  };
  const cleanup = new StubCleanup();
  const handle = await startSmtpd({
    config, listen: { host: '127.0.0.1', port: 0 }, cleanup, policy: relayPolicy(), sasl: undefined,
    credentials: undefined, log, qualify: (a) => (a.includes('@') ? a : `${a}@mx.test.example`),
    hostResolver: { reverse: async (a) => (a === '127.0.0.1' ? ['localhost'] : []), forward: async (n) => (n === 'localhost' ? ['127.0.0.1'] : []) },
    sleep: async () => undefined,
    ...extra,
  });
  t.after(() => handle.close());
  return { port: handle.address.port, handle, cleanup, logs };
}

/** A raw client: send() writes bytes; reply() returns the next complete reply (all its lines). */
export class RawClient {
  private buf = '';
  private waiters: (() => void)[] = [];
  closed = false;
  private constructor(readonly socket: Socket) {
    socket.on('data', (d) => {
      this.buf += d.toString('latin1');
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }
  static open(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, host, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }
  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  send(data: string): void {
    this.socket.write(Buffer.from(data, 'latin1'));
  }
  async reply(timeoutMs = 5000): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const m = /^((?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\r?\n)/.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(m[1]!.length);
        return m[1]!.replace(/\r\n/g, '\n').replace(/\n$/, '');
      }
      if (this.closed) return '<closed>';
      if (Date.now() > end) return '<timeout>';
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }
  async waitClosed(timeoutMs = 3000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }
  close(): void {
    this.socket.destroy();
  }
}

/** A scripted conversation: each step is bytes to send and how many replies to read after it. */
export type Step = string | { send: string; replies: number };

export async function converse(port: number, steps: readonly Step[]): Promise<string[]> {
  const c = await RawClient.open(port);
  const out: string[] = [await c.reply()];
  for (const st of steps) {
    const { send, replies } = typeof st === 'string' ? { send: st, replies: 1 } : st;
    c.send(send);
    for (let i = 0; i < replies; i++) out.push(await c.reply());
  }
  c.close();
  return out;
}

/** Replaces queue IDs so that two servers' replies compare equal. */
export function normaliseIds(s: string): string {
  return s.replace(/queued as [0-9A-F]+/g, 'queued as ID');
}
