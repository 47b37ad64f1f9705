/*
 * The test helpers (test/helpers/*) tie clean-up to a node:test context through `t.after(fn)`.
 * The runner has no test: this stands in for one, collecting the hooks and running them, newest
 * first, when the workload is torn down.
 */
import type { TestContext } from 'node:test';

export interface HookContext {
  readonly t: TestContext;
  cleanup(): Promise<void>;
}

export function hookContext(): HookContext {
  const hooks: (() => unknown)[] = [];
  const t = { after: (fn: () => unknown) => void hooks.push(fn) } as unknown as TestContext;
  return {
    t,
    async cleanup() {
      while (hooks.length > 0) await hooks.pop()!();
    },
  };
}
