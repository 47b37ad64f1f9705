/*
 * What every restriction implementation may use: parameters read once (reply codes, flags), the
 * resolver (address classes, recipient tables), the DNS client, mynetworks, and a way to run a
 * nested restriction list (table answers, restriction classes). Built by engine.ts.
 */
import type { DnsClient } from '../../dns/api.js';
import type { PostfixResolver } from '../../resolve/resolver.js';
import type { NetworkList } from './network-list.js';
import type { ParsedItem } from './restriction-list.js';
import type { EvalState, Outcome } from './state.js';

export interface PolicyParams {
  rejectCode: number;
  deferCode: number;
  accessMapRejectCode: number;
  accessMapDeferCode: number;
  relayDomainsRejectCode: number;
  unknownLocalRecipientRejectCode: number;
  unknownVirtualAliasRejectCode: number;
  unknownVirtualMailboxRejectCode: number;
  unknownRelayRecipientRejectCode: number;
  unknownAddressRejectCode: number;
  unknownClientRejectCode: number;
  unknownHostnameRejectCode: number;
  invalidHostnameRejectCode: number;
  nonFqdnRejectCode: number;
  mapsRblRejectCode: number;
  plaintextRejectCode: number;
  defaultRblReply: string;
  nullAccessKey: string;
  recipientDelimiter: string;
  accessParentMatches: boolean;
  showUnknownTableName: boolean;
  allowUntrustedRouting: boolean;
  softBounce: boolean;
}

export interface PolicyEnv {
  params: PolicyParams;
  resolver: PostfixResolver;
  dns: DnsClient;
  mynetworks: () => NetworkList;
  openTable: (spec: string) => import('../../../shared/config/tables/table.js').LookupTable;
  sleep: (ms: number) => Promise<void>;
  runItems: (st: EvalState, items: readonly ParsedItem[]) => Promise<Outcome>;
  parseValue: (value: string) => ParsedItem[];
}
