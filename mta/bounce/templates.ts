/*
 * Postfix 3.7's built-in notice templates (`postconf -t`, bounce_template_file unset): subject,
 * postmaster subject and the text above the per-recipient list. $myhostname,
 * $delay_warning_time_hours and $maximal_queue_lifetime_days are filled in by the builder.
 */

export type NoticeKind = 'failure' | 'delay' | 'success';

export interface Template {
  subject: string;
  postmasterSubject?: string;
  text: readonly string[];
}

const FOOTER = ['For further assistance, please send mail to postmaster.', '', 'If you do so, please include this problem report. You can', 'delete your own text from the attached returned message.', '', '                   The mail system'];

export const TEMPLATES: Record<NoticeKind, Template> = {
  failure: {
    subject: 'Undelivered Mail Returned to Sender',
    postmasterSubject: 'Postmaster Copy: Undelivered Mail',
    text: [
      'This is the mail system at host $myhostname.',
      '',
      "I'm sorry to have to inform you that your message could not",
      "be delivered to one or more recipients. It's attached below.",
      '',
      ...FOOTER,
    ],
  },
  delay: {
    subject: 'Delayed Mail (still being retried)',
    postmasterSubject: 'Postmaster Warning: Delayed Mail',
    text: [
      'This is the mail system at host $myhostname.',
      '',
      '####################################################################',
      '# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #',
      '####################################################################',
      '',
      'Your message could not be delivered for more than $delay_warning_time_hours hour(s).',
      'It will be retried until it is $maximal_queue_lifetime_days day(s) old.',
      '',
      ...FOOTER,
    ],
  },
  success: {
    subject: 'Successful Mail Delivery Report',
    text: [
      'This is the mail system at host $myhostname.',
      '',
      'Your message was successfully delivered to the destination(s)',
      'listed below. If the message was delivered to mailbox you will',
      'receive no further notifications. Otherwise you may still receive',
      'notifications of mail delivery errors from other systems.',
      '',
      '                   The mail system',
    ],
  },
};

export function fillTemplate(lines: readonly string[], vars: Record<string, string>): string[] {
  return lines.map((l) => l.replace(/\$([a-z_0-9]+)/g, (m, name: string) => vars[name] ?? m));
}
