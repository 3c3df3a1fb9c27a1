import { log } from "../lib/log";
import { loadRuntimeDrafts, type SkippedDraft } from "../lib/models/drafts";
import type { GenerationWorkers } from "./pool";
import type { RuntimeSupervisor } from "./runtime-supervisor";

// Keeps the supervised runtime's speculative drafts in step with the admin's model settings:
// when they change, the runtime's models are drained, the runtime restarts with the new
// drafts, and the models resume once it answers /health again.

export type DraftSyncOptions = {
  runtime: RuntimeSupervisor;
  pool: GenerationWorkers;
  runtimeUrl: string;
  servedNames: string[];
  /** How long running generations may take to finish before they go back to the queue. */
  drainMs: number;
  healthyTimeoutMs: number;
};

export class RuntimeDraftSync {
  private syncing: Promise<boolean> = Promise.resolve(false);
  private lastSkipped = "";

  constructor(private readonly options: DraftSyncOptions) {}

  /** Applies the stored drafts; resolves true when the runtime was restarted. Calls run one at a time. */
  sync(): Promise<boolean> {
    this.syncing = this.syncing.catch(() => false).then(() => this.syncNow());
    return this.syncing;
  }

  private async syncNow(): Promise<boolean> {
    const { runtime, pool, runtimeUrl, servedNames } = this.options;
    const { drafts, skipped } = await loadRuntimeDrafts({ runtimeUrl, servedNames });
    this.report(skipped);
    if (!runtime.differsFrom(drafts)) return false;
    log.info("runtime:drafts-changed", { drafts });
    await pool.drainRuntime(runtimeUrl, this.options.drainMs);
    try {
      await runtime.restart(drafts);
      await runtime.waitHealthy(this.options.healthyTimeoutMs);
    } finally {
      await pool.resumeRuntime(runtimeUrl);
    }
    return true;
  }

  private report(skipped: SkippedDraft[]) {
    const key = JSON.stringify(skipped);
    if (key === this.lastSkipped) return; // once per change, not every refresh
    this.lastSkipped = key;
    for (const s of skipped) log.warn("runtime:draft-skipped", s);
  }
}
