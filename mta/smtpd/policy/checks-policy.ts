/*
 * check_policy_service: asks the policy server (policy-service.ts, policy-client.ts) and applies
 * its `action=` as an access(5) result with the current reply target; a restriction-list answer
 * runs nested. When the server cannot be used (every try failed), the service's default_action
 * applies in the same way; a malformed argument answers `451 4.3.5 Server configuration error`.
 */
import { accessAction } from './access-result.js';
import type { PolicyEnv } from './env.js';
import { PolicySpecError, requestAttributes, type PolicyServices } from './policy-service.js';
import { DUNNO, reject, type EvalState, type Outcome } from './state.js';

async function apply(env: PolicyEnv, st: EvalState, value: string, table: string): Promise<Outcome> {
  const direct = accessAction(st, value, table, env.params, true, 'policy query');
  if (direct !== undefined) return direct;
  if (st.depth > 20) return DUNNO;
  st.depth++;
  try {
    return await env.runItems(st, env.parseValue(value));
  } finally {
    st.depth--;
  }
}

export async function checkPolicyService(env: PolicyEnv, services: PolicyServices, st: EvalState, arg: string): Promise<Outcome> {
  const svc = services.get(arg);
  if (svc instanceof PolicySpecError) return reject(st, 451, '4.3.5', 'Server configuration error');
  const action = await svc.client.request(requestAttributes(st.stage, st.facts, svc.spec.policyContext));
  return apply(env, st, action ?? svc.spec.defaultAction, svc.spec.name);
}
