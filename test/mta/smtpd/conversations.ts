/*
 * SMTP conversations replayed against real Postfix 3.7.11 and against Postern's smtpd
 * (interop.test.ts) and held to fixed expectations (socket.test.ts). Each stays under
 * smtpd_soft_error_limit errors, so neither server sleeps. Configuration on both sides:
 * myhostname = mx.test.example, mydestination = test.example (every user accepted), mynetworks
 * empty, compatibility_level = 3.6, message_size_limit as given.
 */
import type { Step } from './harness.js';

const EHLO = 'EHLO client.example\r\n';

export const CONVERSATIONS: Record<string, Step[]> = {
  'EHLO, MAIL, RCPT, DATA, QUIT': [
    EHLO, 'MAIL FROM:<a@remote.example>\r\n', 'RCPT TO:<u@test.example>\r\n', 'DATA\r\n',
    'Subject: t\r\n\r\nhello\r\n..dot\r\n.\r\n', 'QUIT\r\n',
  ],
  'HELO and its syntax': ['HELO\r\n', 'HELO client.example\r\n', 'EHLO\r\n', 'EHLO a b\r\n', 'HELO a b\r\n', 'QUIT x\r\n'],
  'sequencing errors': [
    'RCPT TO:<u@test.example>\r\n', 'DATA\r\n', 'MAIL FROM:<a@remote.example>\r\n', 'MAIL FROM:<a@remote.example>\r\n',
    'DATA\r\n', 'RSET x\r\n', 'RSET\r\n', 'QUIT\r\n',
  ],
  'address syntax': [
    EHLO, 'MAIL\r\n', 'MAIL TO:<a@b.example>\r\n', 'MAIL FROM:<a@b.example\r\n', 'MAIL FROM:<a b@c.example>\r\n',
    'MAIL FROM:a@remote.example\r\n', 'RCPT\r\n', 'RCPT TO:<>\r\n', 'RCPT TO:<bad address>\r\n', 'QUIT\r\n',
  ],
  'more address forms': [
    EHLO, 'MAIL FROM: <a@remote.example>\r\n', 'RCPT TO:<@hop.example:u@test.example>\r\n', 'RCPT TO:<"x y"@test.example>\r\n',
    'RCPT TO:u@TEST.example\r\n', 'RCPT TO:<x@elsewhere.example>\r\n', 'RSET\r\n', 'MAIL FROM:<>\r\n', 'RCPT TO:<u@test.example>\r\n', 'QUIT\r\n',
  ],
  'MAIL parameters': [
    EHLO, 'MAIL FROM:<a@b.example> FOO=bar\r\n', 'MAIL FROM:<a@b.example> BODY=X\r\n', 'MAIL FROM:<a@b.example> SIZE=abc\r\n',
    'MAIL FROM:<a@b.example> RET=HDRS RET=FULL\r\n', 'MAIL FROM:<a@b.example> ENVID=\r\n', 'MAIL FROM:<a@b.example> SIZE=\r\n',
    'MAIL FROM:<a@b.example> RET=BOGUS\r\n', 'MAIL FROM:<a@b.example> ENVID=x+2B AUTH=<> BODY=8BITMIME SMTPUTF8 SIZE=10 RET=FULL\r\n',
    'QUIT\r\n',
  ],
  'RCPT parameters': [
    EHLO, 'MAIL FROM:<a@b.example>\r\n', 'RCPT TO:<u@test.example> NOTIFY=BOGUS\r\n', 'RCPT TO:<u@test.example> ORCPT=bogus\r\n',
    'RCPT TO:<u@test.example> FOO=1\r\n', 'RCPT TO:<u@test.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;u+40test.example\r\n',
    'QUIT\r\n',
  ],
  'sticky 552 after SIZE': [
    EHLO, 'MAIL FROM:<a@b.example> SIZE=99999999\r\n', 'MAIL FROM:<a@b.example>\r\n', 'RSET\r\n', 'MAIL FROM:<a@b.example>\r\n', 'QUIT\r\n',
  ],
  'VRFY, ETRN, NOOP, HELP, unknown': [
    EHLO, 'VRFY\r\n', 'VRFY u@test.example\r\n', 'VRFY root\r\n', 'VRFY a b\r\n', 'NOOP x\r\n', 'ETRN\r\n', 'ETRN x.example\r\n',
    'HELP\r\n', 'FOO\r\n', 'QUIT\r\n',
  ],
  'ETRN in a transaction, STARTTLS and AUTH unavailable': [
    EHLO, 'MAIL FROM:<a@b.example>\r\n', 'ETRN x.example\r\n', 'STARTTLS\r\n', 'AUTH PLAIN\r\n', 'QUIT\r\n',
  ],
  'BDAT': [
    EHLO, 'MAIL FROM:<a@b.example>\r\n', 'RCPT TO:<u@test.example>\r\n', 'BDAT 5\r\nhello', 'BDAT 7\r\n\r\nabc\r\n', 'BDAT 0 LAST\r\n',
    'MAIL FROM:<a@b.example>\r\n', 'RCPT TO:<u@test.example>\r\n', 'BDAT 4 LAST\r\nab\r\n', 'BDAT 0\r\n', 'MAIL FROM:<a@b.example>\r\n',
    'RCPT TO:<u@test.example>\r\n', 'BDAT 2\r\nab', 'RSET\r\n', 'QUIT\r\n',
  ],
  'BDAT without recipients, DATA after BDAT': [
    EHLO, 'BDAT 0 LAST\r\n', 'MAIL FROM:<a@b.example>\r\n', 'BDAT 3\r\nabc', 'DATA\r\n', 'RSET\r\n', 'QUIT\r\n',
  ],
  'BDAT syntax hangs up': [EHLO, 'BDAT x\r\n'],
  'non-SMTP command': ['HELO client.example\r\n', 'Subject: hi\r\n'],
  'HTTP request': ['GET / HTTP/1.0\r\n'],
  'bare LF command, empty line, NUL, long line': [
    EHLO, 'NOOP\n', '\r\n', 'NO\u0000OP\r\n', `NOOP ${'x'.repeat(3000)}\r\n`, 'NOOP\r\n', 'QUIT\r\n',
  ],
  'bare LF ends DATA (smtpd_forbid_bare_newline = no)': [
    EHLO, 'MAIL FROM:<a@b.example>\r\n', 'RCPT TO:<u@test.example>\r\n', 'DATA\r\n', 'Subject: x\n\nbare lf\n.\n', 'QUIT\r\n',
  ],
  'pipelined transaction': [
    { send: `${EHLO}MAIL FROM:<a@b.example>\r\nRCPT TO:<u@test.example>\r\nRCPT TO:<x@elsewhere.example>\r\nDATA\r\n`, replies: 5 },
    'hi\r\n.\r\n', { send: 'NOOP\r\nNOOP\r\nQUIT\r\n', replies: 3 },
  ],
};

/** Conversations that need message_size_limit = 1000. */
export const SIZE_CONVERSATIONS: Record<string, Step[]> = {
  'oversize DATA': [
    EHLO, 'MAIL FROM:<a@b.example> SIZE=500\r\n', 'RCPT TO:<u@test.example>\r\n', 'DATA\r\n',
    `Subject: x\r\n\r\n${`${'x'.repeat(100)}\r\n`.repeat(20)}.\r\n`, 'MAIL FROM:<a@b.example>\r\n', 'QUIT\r\n',
  ],
  'oversize BDAT': [
    EHLO, 'MAIL FROM:<a@b.example>\r\n', 'RCPT TO:<u@test.example>\r\n', `BDAT 2000\r\n${'y'.repeat(2000)}`, 'BDAT 1\r\nz',
    'BDAT 1 LAST\r\nz', 'RSET\r\n', 'QUIT\r\n',
  ],
};
