/*
 * The main.cf parameters cleanup honours, read once into a typed value (names and defaults in
 * mta/params.ts): myhostname, mail_name, myorigin (Debian's `/etc/mailname` file form too),
 * message_size_limit, header_size_limit, hopcount_limit, line_length_limit,
 * duplicate_filter_limit, always_bcc, enable_long_queue_ids, always_add_missing_headers,
 * local_header_rewrite_clients, inet_interfaces, header_checks.
 */
import { readFileSync } from 'node:fs';
import type { PostfixConfig } from '../../shared/config/postfix/config.js';

export interface CleanupSettings {
  myhostname: string;
  mailName: string;
  myorigin: string;
  messageSizeLimit: number;
  headerSizeLimit: number;
  hopcountLimit: number;
  lineLengthLimit: number;
  duplicateFilterLimit: number;
  alwaysBcc: string;
  longQueueIds: boolean;
  alwaysAddMissingHeaders: boolean;
  localHeaderRewriteClients: string[];
  /** inet_interfaces addresses (`all` when listening everywhere). */
  inetInterfaces: string[];
  /** header_checks table specs. */
  headerChecks: string[];
}

/** Debian: a myorigin starting with `/` names a file whose first line is the origin. */
export function originFrom(value: string, readFile: (p: string) => string = (p) => readFileSync(p, 'utf8')): string {
  if (!value.startsWith('/')) return value;
  try {
    return readFile(value).split('\n')[0]!.trim();
  } catch {
    return value;
  }
}

export function cleanupSettings(cfg: PostfixConfig): CleanupSettings {
  return {
    myhostname: cfg.get('myhostname'),
    mailName: cfg.get('mail_name'),
    myorigin: originFrom(cfg.get('myorigin')),
    messageSizeLimit: cfg.getInt('message_size_limit'),
    headerSizeLimit: cfg.getInt('header_size_limit'),
    hopcountLimit: cfg.getInt('hopcount_limit'),
    lineLengthLimit: cfg.getInt('line_length_limit'),
    duplicateFilterLimit: cfg.getInt('duplicate_filter_limit'),
    alwaysBcc: cfg.get('always_bcc'),
    longQueueIds: cfg.getBool('enable_long_queue_ids'),
    alwaysAddMissingHeaders: cfg.getBool('always_add_missing_headers'),
    localHeaderRewriteClients: cfg.getList('local_header_rewrite_clients'),
    inetInterfaces: cfg.getList('inet_interfaces'),
    headerChecks: cfg.getList('header_checks'),
  };
}

/** Test and tool defaults: Postfix's built-in values with the given host names. */
export function defaultCleanupSettings(over: Partial<CleanupSettings> = {}): CleanupSettings {
  return {
    myhostname: 'localhost.localdomain',
    mailName: 'Postfix',
    myorigin: 'localhost.localdomain',
    messageSizeLimit: 10240000,
    headerSizeLimit: 102400,
    hopcountLimit: 50,
    lineLengthLimit: 2048,
    duplicateFilterLimit: 1000,
    alwaysBcc: '',
    longQueueIds: false,
    alwaysAddMissingHeaders: false,
    localHeaderRewriteClients: ['permit_inet_interfaces'],
    inetInterfaces: ['all'],
    headerChecks: [],
    ...over,
  };
}
