/*
 * Recipient address → userdb lookup name and detail (Dovecot lmtp-recipient / lda
 * `recipient_delimiter`): the local part is cut at the first character that is one of the
 * delimiter characters; what follows is the detail (`bob+folder@x` → `bob@x`, detail `folder`).
 * Case is left alone: the auth service lower-cases with auth_username_format = %Lu. Pure.
 */

export interface SplitRecipient {
  /** Name for the userdb lookup: `<local part without detail>[@domain]`. */
  readonly user: string;
  readonly detail: string;
}

export function splitRecipient(localPart: string, domain: string, delimiters: string): SplitRecipient {
  let cut = -1;
  if (delimiters !== '') {
    for (let i = 0; i < localPart.length; i++) {
      if (delimiters.includes(localPart[i]!)) {
        cut = i;
        break;
      }
    }
  }
  const base = cut < 0 ? localPart : localPart.slice(0, cut);
  const detail = cut < 0 ? '' : localPart.slice(cut + 1);
  return { user: domain === '' ? base : `${base}@${domain}`, detail };
}
