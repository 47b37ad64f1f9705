/*
 * Real client libraries from Python's standard library, run as `python3 -c`: poplib for the POP3
 * sessions (what getmail and many scripts use) and imaplib for a failed IMAP login. Each session
 * runs STLS/STARTTLS first (certificate not verified: the self-signed example pair) and connects
 * from the chosen source address (socket.create_connection is wrapped to bind it), so log lines
 * carry a known client IP. Results come back as JSON on stdout.
 */
import { spawnSync } from 'node:child_process';

export interface Pop3Result {
  count: number;
  uidls: string[];
  /** Each message as text (lines joined with "\n"). */
  messages: string[];
}

const SCRIPT = String.raw`
import json, poplib, socket, ssl, sys
a = json.load(sys.stdin)
_cc = socket.create_connection
socket.create_connection = lambda addr, timeout=60, source_address=None: _cc(addr, timeout, (a["source"], 0))
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
p = poplib.POP3(a["host"], a["port"], timeout=60)
p.stls(context=ctx)
p.user(a["user"])
p.pass_(a["password"])
count = p.stat()[0]
uidls = [l.decode().split(" ", 1)[1] for l in p.uidl()[1]]
messages = []
for i in range(1, count + 1):
    messages.append("\n".join(l.decode("utf-8", "replace") for l in p.retr(i)[1]))
for i in a["dele"]:
    p.dele(i)
p.quit()
print(json.dumps({"count": count, "uidls": uidls, "messages": messages}))
`;

/** Runs one POP3 session; `dele` are 1-based message numbers deleted before QUIT. */
export function pop3Session(port: number, user: string, password: string, dele: number[] = [], source = '127.0.0.1'): Pop3Result {
  const r = spawnSync('python3', ['-c', SCRIPT], {
    input: JSON.stringify({ host: '127.0.0.1', port, user, password, dele, source }),
    encoding: 'utf8',
    timeout: 90_000,
  });
  if (r.status !== 0) throw new Error(`poplib session failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Pop3Result;
}

const IMAP_FAIL = String.raw`
import imaplib, json, socket, ssl, sys
a = json.load(sys.stdin)
_cc = socket.create_connection
socket.create_connection = lambda addr, timeout=60, source_address=None: _cc(addr, timeout, (a["source"], 0))
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
c = imaplib.IMAP4(a["host"], a["port"], timeout=60)
c.starttls(ssl_context=ctx)
try:
    c.login(a["user"], a["password"])
    print(json.dumps({"ok": True}))
except imaplib.IMAP4.error as e:
    print(json.dumps({"ok": False, "error": str(e)}))
c.logout()
`;

/** One IMAP LOGIN attempt with imaplib after STARTTLS: whether it succeeded and the server's text. */
export function imapLogin(port: number, user: string, password: string, source = '127.0.0.1'): { ok: boolean; error?: string } {
  const r = spawnSync('python3', ['-c', IMAP_FAIL], {
    input: JSON.stringify({ host: '127.0.0.1', port, user, password, source }),
    encoding: 'utf8',
    timeout: 90_000,
  });
  if (r.status !== 0) throw new Error(`imaplib session failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as { ok: boolean; error?: string };
}
