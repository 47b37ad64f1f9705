/*
 * Milter option negotiation (pure), as Postfix's milter8_connect(): what milter_protocol offers,
 * and what the milter's SMFIC_OPTNEG answer leaves us allowed to send.
 *
 * milter_protocol is a list (comma or space separated) of exactly one version (2, 3, 4 or 6) and
 * optionally `no_header_reply`. We offer every SMFIF_* action, and the SMFIP_* event flags defined
 * for that version; events our version does not define are never sent ("non-protocol" mask). A
 * milter answering with a higher version, or asking for actions we did not offer, is refused; a
 * milter answering with a lower version is sent only the events of its own version.
 */
import { SMFIF_ALL, SMFIP, SMFIP_NOREPLY_MASK, SMFIP_NOSEND_MASK, SMFIM, type MacroStage } from './codec.js';

export class MilterConfigError extends Error {
  override readonly name = 'MilterConfigError';
}

const V2 = SMFIP.NOCONNECT | SMFIP.NOHELO | SMFIP.NOMAIL | SMFIP.NORCPT | SMFIP.NOBODY | SMFIP.NOHDRS | SMFIP.NOEOH;
const V3 = V2 | SMFIP.NOUNKNOWN;
const V4 = V3 | SMFIP.NODATA;
const V6 = V4 | SMFIP.SKIP | SMFIP.RCPT_REJ | SMFIP_NOREPLY_MASK | SMFIP.HDR_LEADSPC;

/** Event masks by version, highest first (milter8_event_masks). */
const VERSION_MASKS: ReadonlyArray<readonly [number, number]> = [
  [6, V6],
  [4, V4],
  [3, V3],
  [2, V2],
];

export interface Offer {
  version: number;
  actions: number;
  /** SMFIP_* flags we announce. */
  events: number;
  /** Events we must not send (not defined for our protocol version). */
  nonProtocol: number;
}

/** Parses milter_protocol (default `6`). */
export function parseMilterProtocol(value: string): Offer {
  let version = 0;
  let events = 0;
  for (const name of value.split(/[\s,]+/).filter((s) => s !== '')) {
    if (name === 'no_header_reply') {
      events |= SMFIP.NR_HDR;
      continue;
    }
    const mask = VERSION_MASKS.find(([v]) => String(v) === name)?.[1];
    if (mask === undefined || version !== 0) throw new MilterConfigError(`bad protocol information: ${name}`);
    version = Number(name);
    events |= mask;
  }
  if (version === 0 || events === 0) throw new MilterConfigError('no protocol version information');
  return { version, actions: SMFIF_ALL, events, nonProtocol: SMFIP_NOSEND_MASK & ~events };
}

export interface Negotiated {
  version: number;
  /** SMFIF_* actions the milter will request. */
  actions: number;
  /** SMFIP_* flags from the milter (events it does not want, replies it will not send). */
  events: number;
  nonProtocol: number;
  /** Per-stage macro name lists the milter asked for (SMFIF_SETSYMLIST), overriding ours. */
  macroOverrides: Partial<Record<MacroStage, string>>;
  /** Unknown macro list stages, for a warning. */
  ignoredStages: number[];
}

const STAGE_OF: Record<number, MacroStage> = {
  [SMFIM.CONNECT]: 'connect',
  [SMFIM.HELO]: 'helo',
  [SMFIM.ENVFROM]: 'mail',
  [SMFIM.ENVRCPT]: 'rcpt',
  [SMFIM.DATA]: 'data',
  [SMFIM.EOM]: 'eom',
  [SMFIM.EOH]: 'eoh',
};

/** Checks the milter's OPTNEG answer against our offer; a conflict is returned as the warning text. */
export function acceptNegotiation(
  offer: Offer,
  reply: { version: number; actions: number; protocol: number; symlists: ReadonlyArray<{ stage: number; macros: string }> },
): Negotiated | { conflict: string } {
  if (reply.version > offer.version) return { conflict: `protocol version ${reply.version} conflict with MTA protocol version ${offer.version}` };
  if ((reply.actions & ~offer.actions) >>> 0 !== 0) {
    return { conflict: `request mask 0x${reply.actions.toString(16)} conflict with MTA request mask 0x${offer.actions.toString(16)}` };
  }
  let nonProtocol = offer.nonProtocol;
  if (reply.version < offer.version) {
    const mask = VERSION_MASKS.find(([v]) => v <= reply.version)?.[1];
    if (mask !== undefined) nonProtocol |= SMFIP_NOSEND_MASK & ~mask;
  }
  const macroOverrides: Partial<Record<MacroStage, string>> = {};
  const ignoredStages: number[] = [];
  for (const s of reply.symlists) {
    const stage = STAGE_OF[s.stage];
    if (stage === undefined) ignoredStages.push(s.stage);
    else macroOverrides[stage] = s.macros;
  }
  return { version: reply.version, actions: reply.actions, events: reply.protocol, nonProtocol, macroOverrides, ignoredStages };
}
