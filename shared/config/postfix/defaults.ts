/*
 * Built-in defaults of Postfix main.cf parameters as config text (what `postconf -d` prints),
 * from the 3.7.11 catalogue plus the host-derived values Postfix computes at run time.
 * mynetworks depends on mynetworks_style, which itself depends on compatibility_level, so the
 * caller passes the effective style in.
 */
import { POSTFIX_PARAM_DEFAULTS, HOST_DERIVED_PARAMS } from './param-catalogue.js';
import { defaultMyHostname, defaultMyDomain, defaultMyNetworks } from './host-defaults.js';

const CATALOGUE: ReadonlyMap<string, string> = new Map(POSTFIX_PARAM_DEFAULTS);

export interface HostInfo {
  myhostname: string;
  mydomain: string;
  /** mynetworks for a given mynetworks_style. */
  mynetworks: (style: string) => string;
  pid: number;
}

let cachedHost: HostInfo | undefined;

/** The real host's values (cached for the life of the process). */
export function realHostInfo(): HostInfo {
  if (cachedHost === undefined) {
    const myhostname = defaultMyHostname();
    cachedHost = { myhostname, mydomain: defaultMyDomain(myhostname), mynetworks: (s) => defaultMyNetworks(s), pid: process.pid };
  }
  return cachedHost;
}

/** True when `name` is a built-in Postfix 3.7 parameter. */
export function isBuiltinParam(name: string): boolean {
  return CATALOGUE.has(name);
}

/** Every built-in parameter name, sorted. */
export function builtinParamNames(): string[] {
  return [...CATALOGUE.keys()];
}

/**
 * The default config text of a built-in parameter, or undefined for unknown names.
 * `style` supplies the effective mynetworks_style (expanded) when mynetworks is asked for.
 */
export function builtinDefault(name: string, host: HostInfo, style: () => string = () => 'subnet'): string | undefined {
  if (HOST_DERIVED_PARAMS.has(name)) {
    switch (name) {
      case 'myhostname': return host.myhostname;
      case 'mydomain': return host.mydomain;
      case 'mynetworks': return host.mynetworks(style());
      default: return String(host.pid);
    }
  }
  return CATALOGUE.get(name);
}
