/*
 * LMTP session, transaction and recipient IDs the way Dovecot 2.3 forms them (lmtp-client.c,
 * lmtp-recipient.c): a 22-character base64 GUID per connection (`6IT+G4LACWvsLgAAg+zDdQ`); the
 * n-th transaction (n ≥ 2) of a connection is `<session>:T<n>`; the k-th accepted recipient
 * (k ≥ 2) of a transaction is `<transaction>:R<k>`. These IDs appear in the per-recipient DATA
 * reply, the Received header and the log prefix. Pure apart from the random bytes.
 */
import { randomBytes } from 'node:crypto';

/** 16 random bytes as unpadded base64: 22 characters, as Dovecot's guid_128 session IDs. */
export function newSessionId(): string {
  return randomBytes(16).toString('base64').slice(0, 22);
}

export function transactionId(sessionId: string, transaction: number): string {
  return transaction <= 1 ? sessionId : `${sessionId}:T${transaction}`;
}

export function recipientId(transId: string, index: number): string {
  return index <= 1 ? transId : `${transId}:R${index}`;
}
