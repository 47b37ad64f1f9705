/*
 * Captures real Postfix 3.7 output for the bounce and pickup comparisons: submits mail with the
 * real sendmail into a private instance (test/helpers/postfix-instance.ts) whose transport_maps
 * send one recipient to `error:` (so it bounces) and park everything to `sink.test` with `retry:`
 * (so the DSN stays in the deferred queue), then reads the queued DSN with `postcat -bh`.
 */
import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';
import { startPostfix, type PostfixInstance } from '../../helpers/postfix-instance.js';

export interface PostfixSample {
  pf: PostfixInstance;
  /** Queue ID of the original message (the one that bounced). */
  origId: string;
  /** The DSN as postcat prints its header+body (`postcat -hb`). */
  dsn: string;
  /** A locally submitted message parked in the queue (its header+body), for the pickup comparison. */
  local: string;
  localId: string;
}

function postcat(pf: PostfixInstance, id: string): string {
  const r = spawnSync('/usr/sbin/postcat', ['-c', pf.configDir, '-hb', '-q', id], { encoding: 'latin1' });
  return r.stdout;
}

async function waitLog(pf: PostfixInstance, re: RegExp, ms = 20_000): Promise<RegExpMatchArray> {
  const end = Date.now() + ms;
  for (;;) {
    const m = pf.log().match(re);
    if (m) return m;
    if (Date.now() > end) throw new Error(`log never matched ${re}:\n${pf.log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function capturePostfixBounce(t: TestContext, body: string): Promise<PostfixSample> {
  const pf = await startPostfix(t, {
    myhostname: 'mx.example.test',
    main: {
      myorigin: 'example.test',
      transport_maps:
        'inline:{ {nowhere.test = error:5.1.1 mailbox unavailable}, {far.test = error:5.7.1 delivery to this destination is not permitted by the local policy of the administrator of the receiving system}, {sink.test = retry:4.4.1 parked for inspection} }',
    },
  });
  const send = (args: string[], input: string) =>
    spawnSync('/usr/sbin/sendmail', ['-C', pf.configDir, ...args], { input, encoding: 'utf8' });
  const r1 = send(['-f', 'alice@sink.test', '-V', 'env123', 'bob@nowhere.test', 'carol@far.test'], body);
  if (r1.status !== 0) throw new Error(`sendmail failed: ${r1.stderr}`);
  const m1 = await waitLog(pf, /pickup\[\d+\]: ([0-9A-F]+): uid=0 from=<alice@sink\.test>/);
  const origId = m1[1]!;
  const m2 = await waitLog(pf, new RegExp(`bounce\\[\\d+\\]: ${origId}: sender non-delivery notification: ([0-9A-F]+)`));
  const dsnId = m2[1]!;
  await waitLog(pf, new RegExp(`${dsnId}: to=<alice@sink\\.test>.*status=deferred`));
  const dsn = postcat(pf, dsnId);

  const r2 = send(['-F', 'Carol Q', '-f', 'carol@sink.test', 'dave@sink.test'], 'Subject: local\n\nhello\n');
  if (r2.status !== 0) throw new Error(`sendmail failed: ${r2.stderr}`);
  const m3 = await waitLog(pf, /pickup\[\d+\]: ([0-9A-F]+): uid=0 from=<carol@sink\.test>/);
  const localId = m3[1]!;
  await waitLog(pf, new RegExp(`${localId}: to=<dave@sink\\.test>.*status=deferred`));
  const local = postcat(pf, localId);
  return { pf, origId, dsn, local, localId };
}
