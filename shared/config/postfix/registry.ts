/*
 * postconf's parameter name table (pure): which names are legitimate and what their default is,
 * following Postfix 3.7 postconf (postconf_builtin.c, postconf_service.c, postconf_user.c,
 * postconf_unused.c):
 * - built-in parameters (the 3.7.11 catalogue);
 * - per-service parameters for master.cf services that run a delivery agent
 *   (`<service>_destination_concurrency_limit` …, and `<service>_time_limit` for pipe/spawn);
 * - user-defined parameters: a main.cf name=value whose $name is referenced from another main.cf
 *   value or a master.cf `-o` value, or listed in smtpd_restriction_classes; a master.cf `-o` name
 *   referenced within the same service is legitimate there;
 * - everything else draws "unused parameter", references to names that exist nowhere draw
 *   "undefined parameter", and assignments to read-only names are dropped with a warning.
 * Postfix prints these warnings in hash-table order (randomised per run); we use file order.
 */
import { POSTFIX_PARAM_DEFAULTS, TRANSPORT_SERVICE_PARAMS, SPAWN_SERVICE_PARAMS } from './param-catalogue.js';
import { scanMacroNames } from './expand.js';
import { entryParams } from './master-cf.js';
import { splitList } from './values.js';

export type ParamKind = 'builtin' | 'service' | 'user';

export interface ParamInfo {
  kind: ParamKind;
  /** Default config text; undefined for user-defined parameters. */
  defaultText?: string;
}

/** Parameters whose values postconf never expands (printed raw even with -x). */
export const RAW_PARAMS: ReadonlySet<string> = new Set([
  'command_execution_directory', 'default_rbl_reply', 'forward_path', 'luser_relay', 'mailbox_command',
  'postscreen_expansion_filter', 'postscreen_reject_footer', 'smtpd_expansion_filter', 'smtpd_reject_footer',
]);

/** Parameters that main.cf may not set. */
export const READONLY_PARAMS: ReadonlySet<string> = new Set(['process_id', 'process_name', 'service_name']);

const DELIVERY_AGENTS = new Set(['local', 'error', 'virtual', 'smtp', 'lmtp', 'pipe']);
const SPAWNERS = new Set(['pipe', 'spawn']);

export interface RegistryInput {
  configDir: string;
  /** The main.cf name space (config_directory, main.cf entries, -o overrides), file order. */
  mainValues: Map<string, string>;
  /** Parsed master.cf entries' argv (empty when master.cf is missing). */
  masterArgvs: ReadonlyArray<readonly string[]>;
}

export interface ServiceScope {
  argv: readonly string[];
  params: Map<string, string>;
  valid: Set<string>;
}

export interface Registry {
  params: Map<string, ParamInfo>;
  services: ServiceScope[];
  /** Warnings from scanning values (syntax, undefined, read-only), in order. */
  scanWarnings: string[];
  /** main.cf names whose value has a macro syntax error, with the warnings, in order. */
  mainSyntaxErrors: Map<string, string[]>;
  unusedMain(): string[];
  unusedMaster(): string[];
}

export function buildRegistry(input: RegistryInput): Registry {
  const { configDir, mainValues } = input;
  const params = new Map<string, ParamInfo>();
  for (const [n, d] of POSTFIX_PARAM_DEFAULTS) params.set(n, { kind: 'builtin', defaultText: d });
  for (const argv of input.masterArgvs) {
    const svc = argv[0] as string;
    const cmd = (argv[7] as string).replace(/^.*\//, '');
    const add = (list: ReadonlyArray<readonly [string, string]>): void => {
      for (const [suffix, def] of list) {
        const n = `${svc}${suffix}`;
        if (!params.has(n)) params.set(n, { kind: 'service', defaultText: def });
      }
    };
    if (DELIVERY_AGENTS.has(cmd)) add(TRANSPORT_SERVICE_PARAMS);
    if (SPAWNERS.has(cmd)) add(SPAWN_SERVICE_PARAMS);
  }
  const services: ServiceScope[] = input.masterArgvs.map((argv) => ({ argv, params: entryParams(argv), valid: new Set<string>() }));
  const scanWarnings: string[] = [];
  const restClasses = new Set<string>();
  const mainSyntaxErrors = new Map<string, string[]>();

  const flag = (name: string, scope: ServiceScope | undefined): void => {
    const source = scope ? 'master.cf' : 'main.cf';
    let supplied = false;
    if (scope && scope.params.has(name)) {
      supplied = true;
      scope.valid.add(name);
    } else if (mainValues.has(name)) {
      supplied = true;
      if (!params.has(name)) params.set(name, { kind: 'user' });
    }
    if (!scope) {
      for (const s of services) if (s.params.has(name)) { supplied = true; s.valid.add(name); }
    }
    if (!supplied && !params.has(name)) scanWarnings.push(`${configDir}/${source}: undefined parameter: ${name}`);
  };

  const scanSpace = (values: Map<string, string>, scope: ServiceScope | undefined): void => {
    const source = scope ? 'master.cf' : 'main.cf';
    const classes = values.get('smtpd_restriction_classes');
    if (classes !== undefined) {
      for (const c of splitList(classes)) {
        if (!scope) restClasses.add(c);
        flag(c, scope);
      }
    }
    for (const [name, value] of [...values]) {
      if (scope && !scope.valid.has(name) && restClasses.has(name)) scope.valid.add(name);
      const info = params.get(name);
      if (info && info.kind !== 'user') {
        if (READONLY_PARAMS.has(name)) {
          scanWarnings.push(`${configDir}/${source}: read-only parameter assignment: ${name}=${value}`);
          values.delete(name);
          continue;
        }
        if (RAW_PARAMS.has(name)) continue;
      }
      const scan = scanMacroNames(value);
      scanWarnings.push(...scan.warnings);
      if (!scope && scan.error) mainSyntaxErrors.set(name, scan.warnings);
      for (const n of scan.names) flag(n, scope);
    }
  };

  for (const s of services) if (s.params.size > 0) scanSpace(s.params, s);
  scanSpace(mainValues, undefined);

  return {
    params,
    services,
    scanWarnings,
    mainSyntaxErrors,
    unusedMain: () => [...mainValues]
      .filter(([n]) => !params.has(n))
      .map(([n, v]) => `${configDir}/main.cf: unused parameter: ${n}=${v}`),
    unusedMaster: () => services.flatMap((s) => [...s.params]
      .filter(([n]) => !params.has(n) && !s.valid.has(n))
      .map(([n, v]) => `${configDir}/master.cf: unused parameter: ${n}=${v}`)),
  };
}
