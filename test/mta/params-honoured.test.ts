/*
 * "Honoured" stays true: every parameter mta/params.ts declares in MTA_PARAMS must be read by the
 * MTA's code, and every Postfix parameter the code reads must be declared there (DESIGN.md §4
 * rule 6). The reads are recorded, not guessed: shared/config/postfix/config.ts's process-wide
 * read observer sees every parameter name a PostfixConfig is asked about (directly, or as a `$name`
 * inside a value being expanded), while this test runs the code paths that read settings:
 *  - startMta on a configuration with every master.cf service kind (two smtpd listeners with -o
 *    overrides, smtp/relay/lmtp/discard/error/retry/local/virtual/pipe agents, the daemons Postern
 *    runs internally), then an SMTP session whose recipients go through virtual aliasing,
 *    canonical mapping, transport_maps, discard and error (a bounce), so cleanup, trivial-rewrite,
 *    qmgr and the bounce generator all work;
 *  - qmgr's per-transport limits for every transport (read lazily at scheduling time);
 *  - the restriction engine with every restriction family in every list, at every stage;
 *  - the tools: postqueue, mailq, postsuper, sendmail (send, -bv, -bs, -bp), postcat, postmap,
 *    postalias, newaliases, postfix status/check.
 * postconf is not run: it prints every parameter by design. A parameter only some untested path
 * reads would fail the first test: exercise the path here, or move the parameter to
 * MTA_ACCEPTED_PARAMS.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPostfixConfig, setConfigReadObserver } from '../../shared/config/postfix/config.js';
import { POSTFIX_PARAM_DEFAULTS } from '../../shared/config/postfix/param-catalogue.js';
import { CliExit, postfixDiag } from '../../shared/cli/diag.js';
import { MTA_ACCEPTED_PARAMS, MTA_PARAMS, POSTERN_MTA_PARAMS, isHonoured } from '../../mta/params.js';
import { startMta } from '../../mta/main.js';
import { transportLimits } from '../../mta/qmgr/settings.js';
import { createResolveContext } from '../../mta/resolve/context.js';
import { createResolver } from '../../mta/resolve/resolver.js';
import { expandRecipient } from '../../mta/resolve/expand.js';
import { createSmtpdPolicy } from '../../mta/smtpd/policy/engine.js';
import type { SmtpdFacts, SmtpdStage } from '../../mta/smtpd/policy/api.js';
import { createStaticDnsClient } from '../../mta/dns/static-dns.js';
import { sendmailMain } from '../../mta/cli/sendmail.js';
import { runTableTool, type ToolIo } from '../../mta/cli/table-tool.js';
import { runNewaliases } from '../../mta/cli/table-newaliases.js';
import { postfixMain } from '../../mta/cli/postfix.js';
import { freePort } from '../helpers/free-port.js';
import { smtpSession } from '../helpers/smtp-client.js';
import { continueAll, startFakeMilter } from './milter/fake-milter.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CATALOGUE = new Set(POSTFIX_PARAM_DEFAULTS.map(([n]) => n));
/** Every parameter name any exercised PostfixConfig was asked about. */
const reads = new Set<string>();

/** Every restriction family the engine implements, each behind warn_if_reject so evaluation goes on. */
const RESTRICTIONS: Record<string, string[]> = {
  smtpd_client_restrictions: ['permit_inet_interfaces', 'reject_unknown_client_hostname', 'reject_unknown_reverse_client_hostname', 'reject_rbl_client rbl.test', 'permit_dnswl_client dnswl.test', 'reject_rhsbl_client rhs.test', 'reject_rhsbl_reverse_client rhs.test', 'check_client_access inline:{192.0.2.9=REJECT}', 'check_reverse_client_hostname_access inline:{x=OK}', 'sleep 0', 'myclass'],
  smtpd_helo_restrictions: ['reject_invalid_helo_hostname', 'reject_non_fqdn_helo_hostname', 'reject_unknown_helo_hostname', 'reject_rhsbl_helo rhs.test', 'check_helo_access inline:{x=OK}', 'check_helo_mx_access inline:{x=OK}', 'check_helo_a_access inline:{x=OK}'],
  smtpd_sender_restrictions: ['reject_non_fqdn_sender', 'reject_unknown_sender_domain', 'reject_unlisted_sender', 'reject_sender_login_mismatch', 'reject_rhsbl_sender rhs.test', 'check_sender_access inline:{x=OK}', 'check_sender_mx_access inline:{x=OK}'],
  smtpd_relay_restrictions: ['permit_mynetworks', 'permit_sasl_authenticated', 'permit_tls_clientcerts', 'defer_unauth_destination', 'reject_unauth_destination'],
  smtpd_recipient_restrictions: ['reject_multi_recipient_bounce', 'reject_unlisted_recipient', 'reject_non_fqdn_recipient', 'reject_unknown_recipient_domain', 'reject_rhsbl_recipient rhs.test', 'check_recipient_access inline:{x=OK}', 'reject_plaintext_session', 'reject_unauth_pipelining', 'reject_unverified_recipient', 'permit_auth_destination', 'check_policy_service inet:127.0.0.1:1', 'defer_if_permit'],
  smtpd_data_restrictions: ['reject_unauth_pipelining', 'reject_multi_recipient_bounce'],
  smtpd_end_of_data_restrictions: ['check_client_access inline:{x=OK}'],
  smtpd_etrn_restrictions: ['permit_mynetworks', 'reject'],
  myclass: ['check_client_access inline:{x=OK}'],
};
const restrictionList = (items: string[]): string => items.map((r) => `warn_if_reject ${r}`).join(', ');

function writeConfig(dir: string, ports: number[], milter: string): string {
  const etc = join(dir, 'etc');
  mkdirSync(etc, { recursive: true });
  writeFileSync(join(dir, 'aliases'), 'postmaster: root\nroot: discard@discard.test\n');
  // Mostly defaults, so the names their expansions refer to ($myhostname, $compatibility_level,
  // $virtual_maps …) are seen too; set only what the run needs.
  writeFileSync(join(etc, 'main.cf'), [
    'compatibility_level = 3.6',
    `queue_directory = ${dir}/q`,
    `data_directory = ${dir}/data`,
    'myhostname = mx.test.example',
    `maillog_file = ${dir}/maillog`,
    'inet_interfaces = loopback-only',
    'inet_protocols = ipv4',
    'queue_run_delay = 1s',
    'minimal_backoff_time = 1s',
    'maximal_backoff_time = 2s',
    `alias_maps = texthash:${dir}/aliases`,
    `alias_database = texthash:${dir}/aliases`,
    'virtual_maps = inline:{ {a@alias.test = b@discard.test, c@bounce.test} }',
    'virtual_alias_domains = alias.test',
    'canonical_maps = inline:{ {x@mx.test.example = discard@discard.test} }',
    'transport_maps = inline:{ {discard.test = discard:} {bounce.test = error:5.1.1 no such user} }',
    'relay_domains = discard.test, bounce.test',
    'smtpd_restriction_classes = myclass',
    'postern_dns_servers = 127.0.0.1:9',
    // The milter path: every SMTP event and the message go through a fake milter that continues.
    `smtpd_milters = ${milter}`,
    '',
  ].join('\n'));
  const [p1, p2] = ports;
  writeFileSync(join(etc, 'master.cf'), [
    `127.0.0.1:${p1} inet n - n - - smtpd`,
    `[127.0.0.1]:${p2} inet n - n - - smtpd`,
    '  -o syslog_name=postfix/submission',
    '  -o smtpd_sasl_auth_enable=yes',
    '  -o smtpd_sasl_type=dovecot',
    '  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject',
    'pickup unix n - n 60 1 pickup',
    'cleanup unix n - n - 0 cleanup',
    'qmgr unix n - n 300 1 qmgr',
    'rewrite unix - - n - - trivial-rewrite',
    'bounce unix - - n - 0 bounce',
    'defer unix - - n - 0 bounce',
    'flush unix n - n 1000? 0 flush',
    'smtp unix - - n - - smtp',
    'relay unix - - n - - smtp',
    '  -o syslog_name=postfix/$service_name',
    'showq unix n - n - - showq',
    'error unix - - n - - error',
    'retry unix - - n - - error',
    'discard unix - - n - - discard',
    'local unix - n n - - local',
    'virtual unix - n n - - virtual',
    'lmtp unix - - n - - lmtp',
    'maildrop unix - n n - - pipe flags=DRhu user=vmail argv=/usr/bin/maildrop -d ${recipient}',
    '',
  ].join('\n'));
  return etc;
}

/** Runs a tool's main; CliExit (a fatal) is a status like any other. */
async function tool(run: () => Promise<number> | number): Promise<number> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof CliExit) return err.status;
    throw err;
  }
}

const CONFIG_JS = new URL('../../shared/config/postfix/config.js', import.meta.url).href;
/** Preloaded into a spawned tool: records its reads with the same observer, written out at exit. */
const RECORDER = `data:text/javascript,${encodeURIComponent([
  `import { setConfigReadObserver } from ${JSON.stringify(CONFIG_JS)};`,
  "import { writeFileSync } from 'node:fs';",
  'const seen = new Set();',
  'setConfigReadObserver((n) => seen.add(n));',
  "process.on('exit', () => writeFileSync(process.env.POSTERN_TEST_READS, [...seen].join('\\n')));",
].join('\n'))}`;

/** Runs a tool whose module runs itself on import (postqueue, mailq, postsuper, postcat) in a child, recording its reads. */
async function spawnTool(dir: string, name: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const out = join(dir, `reads-${name}`);
  const entry = fileURLToPath(new URL(`../../mta/cli/${name}.js`, import.meta.url));
  await new Promise<void>((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', RECORDER, entry, ...args], { env: { ...process.env, ...env, POSTERN_TEST_READS: out }, stdio: ['ignore', 'ignore', 'ignore'] });
    p.on('error', reject);
    p.on('close', () => resolve());
  });
  for (const n of readFileSync(out, 'utf8').split('\n')) if (n !== '') reads.add(n);
}

async function exerciseDaemon(dir: string, etc: string, ports: number[]): Promise<void> {
  const mta = await startMta({ configDir: etc, keepPrivileges: true, stopGraceSeconds: 1 });
  try {
    const msg = ['From: x@mx.test.example', 'To: a@alias.test', 'Subject: params', '', 'body', '.'].join('\r\n');
    const r = await smtpSession(ports[0]!, ['EHLO client.test', 'MAIL FROM:<x@mx.test.example>', 'RCPT TO:<a@alias.test>', 'RCPT TO:<d@discard.test>', 'DATA', msg, 'QUIT']);
    assert.match(r.at(-2) ?? '', /^250 /, r.join('\n'));
    await smtpSession(ports[1]!, ['EHLO client.test', 'QUIT']);
    const log = join(dir, 'maillog');
    for (let i = 0; i < 200 && !/sender non-delivery notification/.test(readFileSync(log, 'utf8')); i++) await sleep(50);
    assert.match(readFileSync(log, 'utf8'), /sender non-delivery notification/);
    const diag = postfixDiag('test', () => undefined);
    const env = { MAIL_CONFIG: etc };
    const out = () => undefined;
    await spawnTool(dir, 'postqueue', ['-p'], env);
    await spawnTool(dir, 'postqueue', ['-s', 'discard.test'], env);
    await spawnTool(dir, 'postqueue', ['-f'], env);
    await spawnTool(dir, 'mailq', [], env);
    await spawnTool(dir, 'postsuper', ['-h', 'ALL'], env);
    await spawnTool(dir, 'postsuper', ['-H', 'ALL'], env);
    await spawnTool(dir, 'postcat', ['-q', 'NOSUCHID'], env);
    const io = { stdout: out, env, diag, uid: process.getuid?.() ?? 0 };
    const stdin = (async function* () { yield Buffer.from('Subject: t\n\nbody\n'); })();
    await tool(() => sendmailMain(['-f', 'x@mx.test.example', 'd@discard.test'], { ...io, stdin }));
    await tool(() => sendmailMain(['-bv', 'd@discard.test'], { ...io, stdin }));
    await tool(() => sendmailMain(['-bp'], { ...io, stdin }));
    const input = new PassThrough();
    const output = new PassThrough();
    output.resume();
    input.end('HELO x\r\nQUIT\r\n');
    await tool(() => sendmailMain(['-bs'], { ...io, stdin, stdinStream: input, stdoutStream: output }));
    await tool(() => postfixMain(['status'], { stderr: out, env }));
    await tool(() => postfixMain(['check'], { stderr: out, env }));
  } finally {
    await mta.stop(1);
  }
}

async function exerciseTools(dir: string, etc: string): Promise<void> {
  const toolIo: ToolIo = { stdout: () => undefined, stderr: () => undefined, stdin: () => '', env: { MAIL_CONFIG: etc } };
  writeFileSync(join(dir, 'map'), 'k v\n');
  await tool(() => runTableTool('postmap', [join(dir, 'map')], toolIo));
  await tool(() => runTableTool('postmap', ['-q', 'k', `texthash:${join(dir, 'map')}`], toolIo));
  await tool(() => runTableTool('postalias', ['-q', 'root', `texthash:${join(dir, 'aliases')}`], toolIo));
  await tool(() => runNewaliases(['-C', etc], toolIo));
}

/** qmgr's limits are read per transport when a transport is first scheduled; the policy reads some parameters per restriction. */
async function exerciseLazyReaders(etc: string): Promise<void> {
  const cfg = loadPostfixConfig({ configDir: etc });
  for (const t of ['smtp', 'relay', 'lmtp', 'local', 'virtual', 'discard', 'error', 'retry', 'maildrop']) transportLimits(cfg, t, '-');
  // trivial-rewrite reads each class's transport when an address of that class is resolved.
  const resolver = createResolver(createResolveContext(loadPostfixConfig({ configDir: etc, overrides: { virtual_mailbox_domains: 'vmbox.test' } })));
  for (const a of ['u@mx.test.example', 'u@alias.test', 'u@vmbox.test', 'u@discard.test', 'u@remote.test', 'u%v@mx.test.example', 'v!u@mx.test.example']) resolver.resolve(a);
  expandRecipient(resolver, 'a@alias.test');
  const overrides: Record<string, string> = { smtpd_delay_reject: 'no' };
  for (const [name, items] of Object.entries(RESTRICTIONS)) overrides[name] = restrictionList(items);
  const pcfg = loadPostfixConfig({ configDir: etc, overrides });
  const policy = createSmtpdPolicy(pcfg, { dns: createStaticDnsClient({ a: { 'client.test': ['192.0.2.1'] } }), sleep: async () => undefined });
  const facts: SmtpdFacts = {
    client: { name: 'unknown', addr: '192.0.2.1', port: 4321 }, server: { addr: '127.0.0.1', port: 25 }, helo: 'client', sender: '',
    recipient: 'someone@elsewhere.test', etrnDomain: 'elsewhere.test', tls: false, protocol: 'ESMTP', recipientCount: 1, pipelined: true,
  };
  const stages: SmtpdStage[] = ['connect', 'helo', 'mail', 'rcpt', 'vrfy', 'data', 'end-of-data', 'etrn'];
  for (const stage of stages) await policy.evaluate(stage, facts);
  const delayed = createSmtpdPolicy(loadPostfixConfig({ configDir: etc, overrides: { ...overrides, smtpd_delay_reject: 'yes' } }), { dns: createStaticDnsClient({}), sleep: async () => undefined });
  await delayed.evaluate('rcpt', { ...facts, client: { name: 'localhost', addr: '127.0.0.1', port: 1 } });
}

const dir = mkdtempSync(join(tmpdir(), 'postern-params-'));
after(() => rmSync(dir, { recursive: true, force: true }));

before(async () => {
  const ports = [await freePort(), await freePort()];
  const milter = await startFakeMilter(undefined, { script: continueAll });
  after(() => milter.close());
  const etc = writeConfig(dir, ports, milter.spec);
  const previous = setConfigReadObserver((name) => reads.add(name));
  try {
    await exerciseDaemon(dir, etc, ports);
    await exerciseTools(dir, etc);
    await exerciseLazyReaders(etc);
  } finally {
    setConfigReadObserver(previous);
  }
});

/**
 * Reads on a path this test cannot run in-process, checked statically instead: the source file
 * must still ask the configuration for the name.
 */
const UNEXERCISED: Record<string, { file: string; why: string }> = {
  mail_owner: { file: 'mta/master/privileges.ts', why: 'privilege drop, only when started as root without keepPrivileges' },
  setgid_group: { file: 'mta/master/privileges.ts', why: 'privilege drop, only when started as root without keepPrivileges' },
};
const TOP = fileURLToPath(new URL('../../../', import.meta.url));

test('the reads this test cannot exercise are still in the source', () => {
  for (const [name, { file, why }] of Object.entries(UNEXERCISED)) {
    assert.ok(readFileSync(join(TOP, file), 'utf8').includes(`.get('${name}')`), `${name} (${why}) is no longer read in ${file}`);
  }
});

test('every parameter MTA_PARAMS claims as honoured is read by the MTA', () => {
  const unread = MTA_PARAMS.map((p) => p.name).filter((n) => !reads.has(n) && UNEXERCISED[n] === undefined);
  assert.deepEqual(unread, [], `claimed as honoured but never read (exercise the path in this test, or move them to MTA_ACCEPTED_PARAMS): ${unread.join(' ')}`);
  for (const p of POSTERN_MTA_PARAMS) assert.ok(reads.has(p.name), p.name);
});

test('every Postfix parameter the MTA reads is declared in MTA_PARAMS', () => {
  const undeclared = [...reads].filter((n) => CATALOGUE.has(n) && !isHonoured(n)).sort();
  assert.deepEqual(undeclared, [], `read by the MTA but not declared in mta/params.ts MTA_PARAMS: ${undeclared.join(' ')}`);
});

test('the two groups are disjoint Postfix parameters, and the accepted ones are not read', () => {
  for (const p of MTA_ACCEPTED_PARAMS) {
    assert.ok(CATALOGUE.has(p.name), p.name);
    assert.ok(!isHonoured(p.name), `${p.name} is in both groups`);
    assert.ok(!reads.has(p.name), `${p.name} is read: move it to MTA_PARAMS`);
    assert.ok(p.note.length > 0, p.name);
  }
});

test('the recording is not vacuous', () => {
  for (const n of ['smtpd_banner', 'mail_name', 'compatibility_level', 'default_destination_concurrency_limit', 'local_destination_concurrency_limit', 'multi_recipient_bounce_reject_code', 'mynetworks', 'virtual_alias_recursion_limit', 'fast_flush_domains', 'hash_queue_depth', 'default_database_type', 'alias_database']) {
    assert.ok(reads.has(n), n);
  }
});
