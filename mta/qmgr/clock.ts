/*
 * qmgr's notion of time, injectable so scheduler tests run on a fake clock and never sleep.
 * now() is epoch milliseconds (the same clock the QueueStore was opened with); timers are
 * one-shot and cancellable.
 */

export interface Timer {
  cancel(): void;
}

export interface Clock {
  now(): number;
  setTimer(ms: number, fn: () => void): Timer;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
    return { cancel: () => clearTimeout(t) };
  },
};
