/*
 * Stopping the MDA with clients connected, as `dovecot stop` does with `shutdown_clients = yes`
 * (observed from Dovecot 2.3.19 on loopback: a logged-in IMAP session, selected or in IDLE, gets
 * `* BYE Server shutting down.` and logs `Disconnected: Server shutting down.`; the master exits
 * while the clients are still connected). Dovecot's login processes and its pop3 outlive the
 * master; we have one daemon, so those connections end with what each process says on SIGTERM
 * (observed: `* BYE Shutting down`, `-ERR Shutting down`, `-ERR [SYS/TEMP] Server shutting down.`).
 * Run with the sessions in the master
 * (postern_mail_processes = 1, the default) and in two session workers (= 2).
 *
 * Each client stays connected until the daemon has exited, so a stop that waits for its clients
 * to leave is caught: the helper's stop() sends SIGKILL after 5 s and the exit is then not 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../helpers/free-port.js';
import { LineClient } from '../helpers/line-client.js';
import { startMdaDaemon } from './lmtp/mda-daemon.js';

/** Everything the peer sends from now until it closes the connection. */
function restOf(c: LineClient): Promise<string> {
  let text = '';
  c.sock.on('data', (d: Buffer) => (text += d.toString('latin1')));
  return new Promise((resolve) => c.sock.once('close', () => resolve(text)));
}

for (const processes of [1, 2]) {
  test(`SIGTERM ends connected sessions and the daemon exits (postern_mail_processes = ${processes})`, async (t) => {
    const imapPort = await freePort();
    const pop3Port = await freePort();
    const mda = await startMdaDaemon(t, {
      users: [{ name: 'u1@test.example', password: 'secret' }],
      protocols: 'imap pop3',
      extraConf: `service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${imapPort}
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = ${pop3Port}
  }
}
plugin {
  postern_mail_processes = ${processes}
}
`,
    });
    const clients: LineClient[] = [];
    t.after(() => clients.forEach((c) => c.close()));
    const open = async (port: number): Promise<LineClient> => {
      const c = await LineClient.open(port);
      clients.push(c);
      await c.line();
      return c;
    };

    const selected = await open(imapPort);
    assert.match(await selected.cmd('a LOGIN u1@test.example secret'), /^a OK /);
    selected.send('b SELECT INBOX\r\n');
    assert.match((await selected.until('b ')).at(-1)!, /^b OK \[READ-WRITE\]/);
    const idling = await open(imapPort);
    assert.match(await idling.cmd('a LOGIN u1@test.example secret'), /^a OK /);
    idling.send('b SELECT INBOX\r\n');
    assert.match((await idling.until('b ')).at(-1)!, /^b OK \[READ-WRITE\]/);
    assert.equal(await idling.cmd('c IDLE'), '+ idling');
    const pop = await open(pop3Port);
    assert.match(await pop.cmd('USER u1@test.example'), /^\+OK/);
    assert.equal(await pop.cmd('PASS secret'), '+OK Logged in.');
    const preLogin = await open(imapPort);
    const popPreLogin = await open(pop3Port);

    const after = [selected, idling, pop, preLogin, popPreLogin].map(restOf);
    await mda.stop();
    assert.equal(await mda.exited, 0, `the daemon did not exit by itself:\n${mda.log()}`);
    const [selectedRest, idlingRest, popRest, preLoginRest, popPreLoginRest] = await Promise.all(after);
    assert.equal(selectedRest, '* BYE Server shutting down.\r\n');
    assert.equal(idlingRest, '* BYE Server shutting down.\r\n');
    assert.equal(popRest, '-ERR [SYS/TEMP] Server shutting down.\r\n');
    assert.equal(preLoginRest, '* BYE Shutting down\r\n');
    assert.equal(popPreLoginRest, '-ERR Shutting down\r\n');
    const log = mda.log();
    assert.equal(log.match(/imap\(u1@test\.example\)<[0-9]+><[^>]+>: Info: Disconnected: Server shutting down\. in=/g)?.length, 2, log);
    assert.match(log, /pop3\(u1@test\.example\)<[0-9]+><[^>]+>: Info: Disconnected: Server shutting down\. top=/);
    for (const service of ['imap', 'pop3']) {
      assert.match(log, new RegExp(`${service}-login: Info: Disconnected: Shutting down \\(no auth attempts in [0-9]+ secs\\): user=<>, rip=127\\.0\\.0\\.1, lip=127\\.0\\.0\\.1, secured, session=<[^>]+>\n`), log);
    }
    assert.match(log, /master: Warning: Killed with signal 15/);
  });
}
