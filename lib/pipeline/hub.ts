import type { Redis } from "ioredis";
import { log } from "../log";
import { createRedis } from "../redis";

// One Redis subscriber connection per process, shared by every viewer: a thousand viewers
// of one battle cost one SUBSCRIBE, not a thousand connections.

type Listener = (raw: string) => void;

export class ChannelHub {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly ready = new Map<string, Promise<unknown>>();

  constructor(private readonly subscriber: Redis) {
    subscriber.on("message", (channel: string, raw: string) => {
      for (const listener of this.listeners.get(channel) ?? []) listener(raw);
    });
    subscriber.on("error", (error) => log.warn("pipeline:subscriber", error));
  }

  /**
   * Resolves once Redis confirmed the subscription, so whatever is read after it cannot miss a
   * message published later. Returns the function that stops listening.
   */
  async listen(channel: string, listener: Listener): Promise<() => void> {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      // Issued synchronously so SUBSCRIBE/UNSUBSCRIBE reach Redis in call order.
      this.ready.set(channel, this.subscriber.subscribe(channel));
    }
    set.add(listener);
    await this.ready.get(channel);
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      const current = this.listeners.get(channel);
      current?.delete(listener);
      if (current && current.size === 0) {
        this.listeners.delete(channel);
        this.ready.delete(channel);
        this.subscriber.unsubscribe(channel).catch(() => undefined);
      }
    };
  }

  get channelCount(): number {
    return this.listeners.size;
  }

  listenerCount(channel: string): number {
    return this.listeners.get(channel)?.size ?? 0;
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.subscriber.quit().catch(() => undefined);
  }
}

const holder = globalThis as unknown as { leitaiHub?: ChannelHub };

export function channelHub(): ChannelHub {
  holder.leitaiHub ??= new ChannelHub(createRedis({ maxRetriesPerRequest: null }));
  return holder.leitaiHub;
}

export async function closeChannelHub(): Promise<void> {
  const hub = holder.leitaiHub;
  holder.leitaiHub = undefined;
  await hub?.close();
}
