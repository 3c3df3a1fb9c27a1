/**
 * A FIFO one producer pushes to and one consumer awaits. No timer or listener per item: with a
 * thousand viewers of a token stream, per-message timers cost more than the messages.
 */
export class AsyncQueue<T> {
  private items: T[] = [];
  private waiter: ((value: T | undefined) => void) | null = null;
  private closed = false;

  push(item: T): void {
    if (this.closed) return;
    if (this.waiter) {
      const wake = this.waiter;
      this.waiter = null;
      wake(item);
    } else {
      this.items.push(item);
    }
  }

  /** Wakes the consumer with undefined, now and on every later next(). */
  close(): void {
    this.closed = true;
    this.items = [];
    const wake = this.waiter;
    this.waiter = null;
    wake?.(undefined);
  }

  /** The next item; undefined once closed. */
  next(): Promise<T | undefined> {
    if (this.items.length) return Promise.resolve(this.items.shift());
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }
}
