import { Worker } from "bullmq";
import type { Redis } from "ioredis";
import { fanOutJudgeRun } from "../lib/judge/runs";
import { log } from "../lib/log";
import { fanOutPregen } from "../lib/pipeline/pregen";
import { JUDGE_QUEUE, PREGEN_QUEUE, type JudgeRunJob, type PregenJob } from "../lib/pipeline/queues";

// The fan-out consumers: a pre-generation run (lib/pipeline/pregen.ts) or a judge run
// (lib/judge/runs.ts) becomes one generation job per question, on the models' pre-generation
// lanes. Fanning a run out twice is safe, so a job a dead worker left is simply run again.

const FAN_OUTS = [
  { queue: PREGEN_QUEUE, run: (job: PregenJob) => fanOutPregen(job.runId), event: "worker:pregen" },
  { queue: JUDGE_QUEUE, run: (job: JudgeRunJob) => fanOutJudgeRun(job.runId), event: "worker:judge" },
] as const;

export type FanOutOptions = {
  /** The worker's BullMQ connection (maxRetriesPerRequest: null). */
  connection: Redis;
  workerId: string;
  lockDurationMs: number;
  stalledIntervalMs: number;
};

/** One consumer per fan-out queue, one job at a time each. */
export function startFanOutWorkers(options: FanOutOptions): Worker[] {
  return FAN_OUTS.map(({ queue, run, event }) => {
    const worker = new Worker<PregenJob | JudgeRunJob>(queue, (job) => run(job.data), {
      connection: options.connection,
      concurrency: 1,
      name: options.workerId,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
    });
    worker.on("error", (e) => log.warn(event, e));
    return worker as Worker;
  });
}
