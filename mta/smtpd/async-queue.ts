/*
 * A one-producer, one-consumer queue of Buffers with back-pressure: push() resolves only when the
 * consumer has taken the buffer, so BDAT chunks and DATA lines flow to cleanup without smtpd ever
 * holding more than one slice. fail() ends the consumer's iteration with an error (an aborted
 * message: cleanup must not commit anything it has seen).
 */
export class AsyncQueue implements AsyncIterable<Buffer> {
  private item: Buffer | undefined;
  private ended = false;
  private error: Error | undefined;
  private taken: (() => void) | undefined;
  private ready: (() => void) | undefined;

  push(b: Buffer): Promise<void> {
    if (this.ended || this.error) return Promise.resolve();
    this.item = b;
    this.wakeConsumer();
    return new Promise<void>((resolve) => {
      this.taken = resolve;
    });
  }

  end(): void {
    this.ended = true;
    this.wakeConsumer();
  }

  fail(err: Error): void {
    this.error = err;
    this.wakeConsumer();
    this.release();
  }

  /** The consumer stopped early: let a waiting producer go on. */
  release(): void {
    const t = this.taken;
    this.taken = undefined;
    t?.();
  }

  private wakeConsumer(): void {
    const r = this.ready;
    this.ready = undefined;
    r?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    try {
      for (;;) {
        if (this.error) throw this.error;
        if (this.item !== undefined) {
          const b = this.item;
          this.item = undefined;
          this.release();
          yield b;
          continue;
        }
        if (this.ended) return;
        await new Promise<void>((resolve) => {
          this.ready = resolve;
        });
      }
    } finally {
      this.release();
    }
  }
}
