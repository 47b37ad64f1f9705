/*
 * The fixed LMTP client of workload 3: N connections on a Unix socket, each LHLO once, then per
 * message MAIL FROM, RCPT TO and DATA written together (RFC 2920 pipelining, which LMTP always
 * has), the three replies read, the dot-stuffed body and "." sent, the per-recipient reply read.
 * Messages are taken from one shared counter, so N connections deliver `count` messages in total;
 * message i goes to recipient i mod |recipients| with body i mod |bodies|.
 */
import { cpuMeter, type CpuUse } from './cpu-meter.js';
import { LineSocket } from './reply-reader.js';

export interface LmtpRunOptions {
  readonly socket: string;
  readonly connections: number;
  readonly count: number;
  /** DATA forms (CRLF, dot-stuffed, final CRLF, no terminator). */
  readonly bodies: readonly Buffer[];
  readonly recipients: readonly string[];
  readonly sender?: string;
}

export interface LmtpRunResult {
  readonly seconds: number;
  /** Machine CPU from the first connect to the last reply (the client's own included). */
  readonly cpu: CpuUse;
  readonly delivered: number;
  readonly failed: number;
  readonly firstError?: string;
}

const TERMINATOR = Buffer.from('.\r\n');

export async function runLmtp(o: LmtpRunOptions): Promise<LmtpRunResult> {
  let next = 0;
  let delivered = 0;
  let failed = 0;
  let firstError: string | undefined;
  const sender = o.sender ?? 'bench-sender@example.org';
  const started = process.hrtime.bigint();
  const cpuEnd = cpuMeter();
  const worker = async (): Promise<void> => {
    const c = await LineSocket.open(o.socket);
    try {
      const greet = await c.reply();
      if (greet.code !== 220) throw new Error(`greeting: ${greet.lines.join(' ')}`);
      c.write('LHLO bench.client\r\n');
      await c.reply();
      for (;;) {
        const i = next++;
        if (i >= o.count) break;
        const rcpt = o.recipients[i % o.recipients.length]!;
        c.write(`MAIL FROM:<${sender}>\r\nRCPT TO:<${rcpt}>\r\nDATA\r\n`);
        const mail = await c.reply();
        const rc = await c.reply();
        const data = await c.reply();
        if (data.code !== 354) {
          failed++;
          firstError ??= [mail, rc, data].map((r) => r.lines.join(' ')).join(' / ');
          c.write('RSET\r\n');
          await c.reply();
          continue;
        }
        c.write(o.bodies[i % o.bodies.length]!);
        c.write(TERMINATOR);
        const r = await c.reply();
        if (r.code === 250) delivered++;
        else {
          failed++;
          firstError ??= r.lines.join(' ');
        }
      }
      c.write('QUIT\r\n');
    } finally {
      c.close();
    }
  };
  await Promise.all(Array.from({ length: o.connections }, () => worker()));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, cpu: cpuEnd(), delivered, failed, ...(firstError !== undefined ? { firstError } : {}) };
}
