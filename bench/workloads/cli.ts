/*
 * Workload 6, CLI latency (wall clock of one run of each tool, ours vs the real one):
 *  - `doveadm mailbox status "messages recent uidnext uidvalidity unseen" INBOX` on a maildir of
 *    `cliMailboxMessages` files written directly (two identical copies, since both tools keep
 *    their own index files in the maildir). "cold": the index files removed before the run;
 *    "warm": median of the runs after it. The user comes from USER/HOME/MAIL for both tools.
 *  - `postconf -n` on the same main.cf (a private Postfix instance's).
 *  - `postqueue -p` on `cliQueueMessages` queued messages: Postfix's filled through smtpd with
 *    smtp-source and parked in hold (check_recipient_access static:HOLD), ours filled through
 *    mta/queue/store.ts into hold as well. The listing's request count is checked on both sides.
 * Every tool runs with a minimal environment (PATH, and the user's variables for doveadm), as from
 * cron or a login shell: this machine's own environment sets NODE_EXTRA_CA_CERTS, which makes every
 * Node process parse a CA bundle at start (40-55 ms here; Postfix's and Dovecot's tools ignore it).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QueueStore } from '../../mta/queue/store.js';
import { removeLater } from '../scratch.js';
import { startPostfix, type PostfixInstance } from '../../test/helpers/postfix-instance.js';
import { median } from '../stats.js';
import { copyTree, writeMaildir } from '../maildir-fixture.js';
import { benchDir, chownForMail, dovecotConf, MAIL_GID, MAIL_UID, userName } from '../mda-peers.js';
import { hookContext, type HookContext } from '../test-context.js';
import { timeCommand } from '../timing.js';
import { log, type Workload } from '../workload.js';

const BIN = fileURLToPath(new URL('../../../bin/', import.meta.url));
const FIELDS = 'messages recent uidnext uidvalidity unseen';
/** The environment postconf and postqueue run with (see the header). */
const TOOL_ENV: NodeJS.ProcessEnv = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

interface State {
  dir: string;
  hooks: HookContext;
  postfix?: PostfixInstance;
  postfixError?: string;
  ourConfigDir: string;
}

let st: State | undefined;

function requestCount(listing: string): number {
  const m = /in (\d+) Requests?\./.exec(listing);
  return m ? Number(m[1]) : 0;
}

async function fillOurQueue(queueDirectory: string, count: number): Promise<void> {
  const store = QueueStore.open({ queueDirectory });
  try {
    const body = Buffer.from(`From: sender@example.org\r\nTo: rcpt@bench.test\r\nSubject: queued\r\n\r\n${'x'.repeat(1000)}\r\n`);
    for (let i = 0; i < count; i += 500) {
      const batch = Array.from({ length: Math.min(500, count - i) }, () =>
        store.enqueue({ sender: 'sender@example.org', recipients: [{ address: 'rcpt@bench.test' }], queue: 'hold' }, body),
      );
      await Promise.all(batch);
    }
  } finally {
    await store.close();
  }
}

async function fillPostfixQueue(pf: PostfixInstance, count: number): Promise<void> {
  const r = spawnSync('/usr/sbin/smtp-source', ['-s', '20', '-m', String(count), '-l', '1024', '-f', 'sender@example.org', '-t', 'rcpt@bench.test', `${pf.host}:${pf.port}`], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`smtp-source: ${r.stderr}`);
  const end = Date.now() + 120_000;
  for (;;) {
    const n = requestCount(timeCommand('/usr/sbin/postqueue', ['-c', pf.configDir, '-p']).stdout);
    if (n >= count) return;
    if (Date.now() > end) throw new Error(`only ${n} of ${count} messages reached the hold queue`);
    await new Promise((res) => setTimeout(res, 500));
  }
}

/** Removes what a previous run added to the maildir's top level (index, uidlist, locks). */
function resetIndexes(maildir: string): void {
  for (const e of readdirSync(maildir)) if (!['cur', 'new', 'tmp'].includes(e)) rmSync(join(maildir, e), { recursive: true, force: true });
}

export const cliWorkload: Workload = {
  id: 'cli',
  title: 'CLI latency: doveadm mailbox status, postconf -n, postqueue -p',
  referenceName: 'doveadm 2.3 / Postfix 3.7 tools',
  metrics: [
    { metric: 'doveadm mailbox status, cold', unit: 'ms', higherIsBetter: false },
    { metric: 'doveadm mailbox status, warm', unit: 'ms', higherIsBetter: false },
    { metric: 'postconf -n', unit: 'ms', higherIsBetter: false },
    { metric: 'postqueue -p', unit: 'ms', higherIsBetter: false },
  ],
  async setup(s) {
    const dir = benchDir('postern-bench-cli-');
    const hooks = hookContext();
    st = { dir, hooks, ourConfigDir: join(dir, 'ours-etc') };
    const u = userName(1);
    const bodies = [Buffer.from('From: a@example.org\r\nTo: b@bench.test\r\nSubject: status\r\n\r\nbody\r\n')];
    const t0 = Date.now();
    // One directory per side (conf, passwd-file, mail): the userdb's home must be that side's copy.
    for (const side of ['ours', 'reference']) {
      const sd = join(dir, side);
      for (const d of ['run', 'state', 'mail']) mkdirSync(join(sd, d), { recursive: true });
      writeFileSync(join(sd, 'users'), `${u}:{PLAIN}x:${MAIL_UID}:${MAIL_GID}::${sd}/mail/${u}::\n`);
      writeFileSync(join(sd, 'dovecot.conf'), dovecotConf(sd, 1));
      // Written once, then copied (cp -a is several times faster than writing 100k files from JS).
      if (side === 'ours') writeMaildir(join(sd, 'mail'), u, 1, s.cliMailboxMessages, bodies);
      else copyTree(join(dir, 'ours', 'mail'), join(sd, 'mail'));
      chownForMail(join(sd, 'mail'));
    }
    log(`cli: two maildirs of ${s.cliMailboxMessages} messages written in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    try {
      st.postfix = await startPostfix(hooks.t, {
        main: {
          mynetworks: '127.0.0.0/8',
          smtpd_relay_restrictions: 'permit_mynetworks, reject',
          smtpd_recipient_restrictions: 'check_recipient_access static:HOLD',
        },
      });
      const t1 = Date.now();
      await fillPostfixQueue(st.postfix, s.cliQueueMessages);
      log(`cli: Postfix hold queue filled with ${s.cliQueueMessages} messages in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    } catch (err) {
      st.postfixError = (err as Error).message.split('\n')[0];
      log(`cli: private Postfix: ${st.postfixError}`);
    }
    mkdirSync(st.ourConfigDir);
    const queueDirectory = join(dir, 'ours-queue');
    mkdirSync(queueDirectory);
    writeFileSync(join(st.ourConfigDir, 'main.cf'), `compatibility_level = 3.6\nqueue_directory = ${queueDirectory}\nmyhostname = mx.test.example\n`);
    const t2 = Date.now();
    await fillOurQueue(queueDirectory, s.cliQueueMessages);
    log(`cli: our hold queue filled with ${s.cliQueueMessages} messages in ${((Date.now() - t2) / 1000).toFixed(1)} s`);
  },
  async run(side, _round, s) {
    if (!st) throw new Error('no setup');
    const u = userName(1);
    const home = join(st.dir, side, 'mail', u);
    const maildir = join(home, 'Maildir');
    const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', USER: u, HOME: home, MAIL: `maildir:${maildir}` };
    const doveadm = side === 'ours' ? join(BIN, 'doveadm') : '/usr/bin/doveadm';
    const status = (): number => {
      const r = timeCommand(doveadm, ['-c', join(st!.dir, side, 'dovecot.conf'), 'mailbox', 'status', FIELDS, 'INBOX'], env);
      if (!r.stdout.includes(`messages=${s.cliMailboxMessages} `)) throw new Error(`doveadm: unexpected output ${r.stdout.slice(0, 200)}`);
      return r.ms;
    };
    resetIndexes(maildir);
    const cold = status();
    const warm = median(Array.from({ length: s.cliRepeats }, status));
    const out: Record<string, number> = { 'doveadm mailbox status, cold': cold, 'doveadm mailbox status, warm': warm };
    if (st.postfix) {
      const postconf = side === 'ours' ? join(BIN, 'postconf') : '/usr/sbin/postconf';
      out['postconf -n'] = median(Array.from({ length: s.cliRepeats * 2 }, () => timeCommand(postconf, ['-c', st!.postfix!.configDir, '-n'], TOOL_ENV).ms));
      const postqueue = side === 'ours' ? join(BIN, 'postqueue') : '/usr/sbin/postqueue';
      const cfg = side === 'ours' ? st.ourConfigDir : st.postfix.configDir;
      out['postqueue -p'] = median(Array.from({ length: s.cliRepeats }, () => {
        const r = timeCommand(postqueue, ['-c', cfg, '-p'], TOOL_ENV);
        const n = requestCount(r.stdout);
        if (n !== s.cliQueueMessages) throw new Error(`postqueue -p (${side}) listed ${n} requests, expected ${s.cliQueueMessages}`);
        return r.ms;
      }));
    }
    log(`cli ${side}: ${Object.entries(out).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(', ')}`);
    return out;
  },
  async teardown() {
    if (!st) return;
    await st.hooks.cleanup();
    removeLater(st.dir);
    st = undefined;
  },
};
