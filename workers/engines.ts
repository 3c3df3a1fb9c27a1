import type { Model } from "@prisma/client";
import { log } from "../lib/log";
import type { GenerationLane } from "../lib/pipeline/queues";
import { EngineConfigError, engineTargetOf, runtimeUrlOf } from "../lib/pipeline/engine-target";

// What the worker knows of each engine it calls: whether it answers (so a job waits for an engine
// that is coming back instead of spending its attempts, and live battles skip a model whose
// engine is down), and how many sequences it runs at once, shared by every arena model that
// the engine serves under one name (two arena models with other sampling settings on one
// served model share its batch).

/** Where an engine is asked whether it is up: the runtime's /health, or an API's /models. */
export function probeUrlOf(model: Pick<Model, "slug" | "kind" | "engine" | "apiKeyEncrypted">): string | null {
  const runtime = runtimeUrlOf(model);
  if (runtime) return `${runtime}/health`;
  try {
    return `${engineTargetOf(model).baseUrl.replace(/\/+$/, "")}/models`;
  } catch (error) {
    if (error instanceof EngineConfigError) return null;
    throw error;
  }
}

/** One engine model: the runtime (or API base) and the name it serves the model under. */
export function engineKeyOf(model: Pick<Model, "slug" | "kind" | "engine" | "apiKeyEncrypted">): string {
  try {
    const target = engineTargetOf(model);
    return `${target.baseUrl}#${target.model}`;
  } catch {
    return `model#${model.slug}`;
  }
}

type EngineState = { up: boolean; since: number; probing: Promise<boolean> | null };

export class EngineMonitor {
  private readonly states = new Map<string, EngineState>();

  constructor(private readonly options: { probeTimeoutMs?: number; pollMs?: number } = {}) {}

  /** Last known state; an engine never probed counts as up. */
  isUp(probeUrl: string | null): boolean {
    return !probeUrl || (this.states.get(probeUrl)?.up ?? true);
  }

  /**
   * Asks the engine now (one request at a time per engine, shared by every caller). The runtime
   * must answer /health with 200; an API counts as up when it answers at all below 500 (a 401
   * for /models still proves the server runs).
   */
  probe(probeUrl: string | null): Promise<boolean> {
    if (!probeUrl) return Promise.resolve(true);
    const state = this.states.get(probeUrl) ?? { up: true, since: Date.now(), probing: null };
    this.states.set(probeUrl, state);
    state.probing ??= (async () => {
      let up: boolean;
      try {
        const res = await fetch(probeUrl, { signal: AbortSignal.timeout(this.options.probeTimeoutMs ?? 2_000) });
        up = probeUrl.endsWith("/health") ? res.ok : res.status < 500;
        await res.body?.cancel().catch(() => undefined);
      } catch {
        up = false;
      }
      if (up !== state.up) {
        log.warn(up ? "engine:up" : "engine:down", { engine: probeUrl, afterMs: Date.now() - state.since });
        state.since = Date.now();
      }
      state.up = up;
      state.probing = null;
      return up;
    })();
    return state.probing;
  }

  /** Resolves true once the engine answers, false at the deadline or when `signal` aborts. */
  async waitUntilUp(probeUrl: string | null, deadline: number, signal?: AbortSignal): Promise<boolean> {
    const pollMs = this.options.pollMs ?? 1_000;
    for (;;) {
      if (await this.probe(probeUrl)) return true;
      if (signal?.aborted || Date.now() + pollMs > deadline) return false;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", done);
          resolve();
        };
        const timer = setTimeout(done, pollMs);
        signal?.addEventListener("abort", done, { once: true });
      });
    }
  }
}

/**
 * The sequences one engine model runs at once, live first. Live work never waits for
 * pre-generation: it may run up to `capacity` answers whatever pre-generation holds (the
 * runtime's scheduler, told the priority, admits them first and preempts pre-generation
 * sequences to make room). Pre-generation starts an answer only while live and pre-generation
 * together leave a slot free, and never holds the last `reserved` slots, so a live answer
 * usually finds room without preempting anything; a freed slot goes to waiting live work first.
 */
export class EngineSlots {
  private live = 0;
  private pregen = 0;
  private readonly waiting: Record<GenerationLane, (() => void)[]> = { live: [], pregen: [] };

  constructor(readonly capacity: number, readonly reserved: number) {}

  get inUse(): number {
    return this.live + this.pregen;
  }

  private fits(lane: GenerationLane): boolean {
    if (lane === "live") return this.live < this.capacity;
    return this.inUse < this.capacity && this.pregen < this.capacity - this.reserved;
  }

  /** Waits for a slot; the returned function gives it back (once). `signal` gives up waiting. */
  async acquire(lane: GenerationLane, signal?: AbortSignal): Promise<() => void> {
    if (this.fits(lane) && (lane === "live" || this.waiting.live.length === 0)) {
      this[lane] += 1;
    } else {
      // wakeNext() counts the slot before it wakes us, so two releases never hand out one slot twice.
      await new Promise<void>((resolve, reject) => {
        const grant = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        const onAbort = () => {
          const queue = this.waiting[lane];
          const i = queue.indexOf(grant);
          if (i >= 0) queue.splice(i, 1);
          reject(signal?.reason instanceof Error ? signal.reason : new Error(String(signal?.reason ?? "aborted")));
        };
        if (signal?.aborted) return onAbort();
        signal?.addEventListener("abort", onAbort, { once: true });
        this.waiting[lane].push(grant);
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this[lane] -= 1;
      this.wakeNext();
    };
  }

  private wakeNext(): void {
    for (;;) {
      if (this.waiting.live.length && this.fits("live")) {
        this.live += 1;
        this.waiting.live.shift()!();
      } else if (!this.waiting.live.length && this.waiting.pregen.length && this.fits("pregen")) {
        this.pregen += 1;
        this.waiting.pregen.shift()!();
      } else {
        return;
      }
    }
  }
}

/** Live headroom for an engine of `capacity` slots: a quarter of them, at least one, unless set. */
export function reservedLiveSlots(capacity: number, configured: number | undefined): number {
  if (configured !== undefined && configured > 0) return Math.min(configured, capacity - 1);
  return capacity > 1 ? Math.max(1, Math.floor(capacity / 4)) : 0;
}
