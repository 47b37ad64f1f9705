/*
 * The restriction lists of one smtpd service, parsed once from main.cf (plus master.cf -o
 * overrides already merged into the PostfixConfig): smtpd_client_/helo_/sender_/relay_/
 * recipient_/data_/end_of_data_/etrn_restrictions and every class named in
 * smtpd_restriction_classes. Pure apart from reading the configuration.
 */
import type { PostfixConfig } from '../../../shared/config/postfix/config.js';
import { parseRestrictions, RELAY_GUARDS, type ParsedItem } from './restriction-list.js';

export type ListName = 'client' | 'helo' | 'sender' | 'relay' | 'recipient' | 'data' | 'end_of_data' | 'etrn';

export interface RestrictionLists {
  lists: Record<ListName, ParsedItem[]>;
  classes: Map<string, ParsedItem[]>;
  classNames: ReadonlySet<string>;
  /** False when neither relay nor recipient list can refuse relaying (Postfix fatal). */
  relaySafe: boolean;
}

export function loadRestrictionLists(cfg: PostfixConfig): RestrictionLists {
  const classNames = new Set(cfg.getList('smtpd_restriction_classes'));
  const parse = (param: string): ParsedItem[] => parseRestrictions(cfg.get(param), classNames);
  const lists = {
    client: parse('smtpd_client_restrictions'),
    helo: parse('smtpd_helo_restrictions'),
    sender: parse('smtpd_sender_restrictions'),
    relay: parse('smtpd_relay_restrictions'),
    recipient: parse('smtpd_recipient_restrictions'),
    data: parse('smtpd_data_restrictions'),
    end_of_data: parse('smtpd_end_of_data_restrictions'),
    etrn: parse('smtpd_etrn_restrictions'),
  };
  const classes = new Map<string, ParsedItem[]>();
  for (const name of classNames) classes.set(name, parse(name));
  const guards = (items: ParsedItem[]): boolean => items.some((i) => RELAY_GUARDS.has(i.name));
  const relaySafe = guards(lists.relay) || guards(lists.recipient);
  return { lists, classes, classNames, relaySafe };
}
