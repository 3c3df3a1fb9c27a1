/** A FIFO a producer pushes to and one consumer awaits, with a timeout and an abort signal. */
export class AsyncQueue<T> {
  private items: T[] = [];
  private waiter: ((value: T | undefined) => void) | null = null;

  push(item: T): void {
    if (this.waiter) {
      const wake = this.waiter;
      this.waiter = null;
      wake(item);
    } else {
      this.items.push(item);
    }
  }

  /** The next item, or undefined after `timeoutMs` or once `signal` aborts. */
  next(timeoutMs: number, signal?: AbortSignal): Promise<T | undefined> {
    if (this.items.length) return Promise.resolve(this.items.shift());
    if (signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const finish = (value: T | undefined) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.waiter = null;
        resolve(value);
      };
      const onAbort = () => finish(undefined);
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiter = finish;
    });
  }
}
