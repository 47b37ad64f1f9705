/*
 * The main.cf parameters the notice generator honours (defaults in mta/params.ts): myhostname,
 * myorigin, bounce_size_limit, notify_classes, bounce_notice_recipient, 2bounce_notice_recipient,
 * delay_notice_recipient, double_bounce_sender, delay_warning_time, maximal_queue_lifetime,
 * smtputf8_enable (utf-8 notices, as Postfix 3.7 with SMTPUTF8 on).
 */
import type { PostfixConfig } from '../../shared/config/postfix/config.js';
import { originFrom } from '../cleanup/settings.js';

export interface BounceSettings {
  myhostname: string;
  myorigin: string;
  bounceSizeLimit: number;
  notifyClasses: string[];
  bounceNoticeRecipient: string;
  twoBounceNoticeRecipient: string;
  delayNoticeRecipient: string;
  doubleBounceSender: string;
  /** Seconds. */
  delayWarningTime: number;
  /** Seconds. */
  maximalQueueLifetime: number;
  charset: string;
}

export function bounceSettings(cfg: PostfixConfig): BounceSettings {
  return {
    myhostname: cfg.get('myhostname'),
    myorigin: originFrom(cfg.get('myorigin')),
    bounceSizeLimit: cfg.getInt('bounce_size_limit'),
    notifyClasses: cfg.getList('notify_classes').map((c) => c.toLowerCase()),
    bounceNoticeRecipient: cfg.get('bounce_notice_recipient'),
    twoBounceNoticeRecipient: cfg.get('2bounce_notice_recipient'),
    delayNoticeRecipient: cfg.get('delay_notice_recipient'),
    doubleBounceSender: cfg.get('double_bounce_sender'),
    delayWarningTime: cfg.getTime('delay_warning_time', 'h'),
    maximalQueueLifetime: cfg.getTime('maximal_queue_lifetime', 'd'),
    charset: cfg.getBool('smtputf8_enable') ? 'utf-8' : 'us-ascii',
  };
}

export function defaultBounceSettings(over: Partial<BounceSettings> = {}): BounceSettings {
  return {
    myhostname: 'localhost.localdomain',
    myorigin: 'localhost.localdomain',
    bounceSizeLimit: 50000,
    notifyClasses: ['resource', 'software'],
    bounceNoticeRecipient: 'postmaster',
    twoBounceNoticeRecipient: 'postmaster',
    delayNoticeRecipient: 'postmaster',
    doubleBounceSender: 'double-bounce',
    delayWarningTime: 0,
    maximalQueueLifetime: 5 * 86400,
    charset: 'utf-8',
    ...over,
  };
}
