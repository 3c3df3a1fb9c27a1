import { EventEmitter } from "node:events";
import type { Worker } from "bullmq";
import { describe, expect, it } from "vitest";
import { paramsHash } from "@/lib/generations";
import { AsyncQueue } from "@/lib/pipeline/async-queue";
import { DEFAULT_GENERATION_PARAMS, type StreamMessage } from "@/lib/pipeline/contracts";
import { chatRequestBody, EngineError } from "@/lib/pipeline/engine-client";
import { PipelineMetrics } from "@/lib/pipeline/metrics";
import type { QueueDepth } from "@/lib/pipeline/queues";
import { afterSeqOf, encodeSse, generationSse, sseResponse } from "@/lib/pipeline/sse";
import { publicGenerationError } from "@/lib/pipeline/stream-log";
import { maxNumSeqsOf, parseRuntimeModels } from "@/workers/runtime-supervisor";

async function* from<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

describe("paramsHash", () => {
  it("is stable across key order and ignores undefined fields", () => {
    const a = paramsHash({ ...DEFAULT_GENERATION_PARAMS });
    const reordered = Object.fromEntries(Object.entries(DEFAULT_GENERATION_PARAMS).reverse()) as typeof DEFAULT_GENERATION_PARAMS;
    expect(paramsHash(reordered)).toBe(a);
    expect(paramsHash({ ...DEFAULT_GENERATION_PARAMS, seed: undefined })).toBe(a);
    expect(paramsHash({ ...DEFAULT_GENERATION_PARAMS, temperature: 0.3 })).not.toBe(a);
  });
});

describe("engine request", () => {
  const params = { ...DEFAULT_GENERATION_PARAMS, seed: 3 };
  it("sends the runtime's extra sampling fields only to engines that accept them", () => {
    const local = chatRequestBody({ baseUrl: "x", model: "m", extendedSampling: true }, [], params);
    expect(local).toMatchObject({ model: "m", stream: true, stream_options: { include_usage: true }, top_p: 0.9, top_k: 40, repetition_penalty: 1.1, seed: 3, max_tokens: 512 });
    const remote = chatRequestBody({ baseUrl: "x", model: "m", extendedSampling: false }, [], params);
    expect(remote.top_k).toBeUndefined();
    expect(remote.repetition_penalty).toBeUndefined();
  });

  it("retries only failures that may pass", () => {
    expect(new EngineError("timeout", "x").retryable).toBe(true);
    expect(new EngineError("overloaded", "x").retryable).toBe(true);
    expect(new EngineError("rejected", "x").retryable).toBe(false);
    expect(new EngineError("malformed", "x").retryable).toBe(false);
  });

  it("tells viewers a category, never the engine's words", () => {
    expect(publicGenerationError("engine unreachable at http://10.0.0.1/v1: ECONNREFUSED")).toBe("The model could not answer.");
    expect(publicGenerationError("engine timed out: no first token (1000 ms)")).toBe("The model took too long to answer.");
    expect(publicGenerationError("cancelled")).toBe("cancelled");
  });
});

describe("SSE", () => {
  it("encodes id and data lines and resumes from Last-Event-ID before ?after=", () => {
    expect(encodeSse({ id: "3", data: { seq: 3, type: "delta", text: "好" } })).toBe('id: 3\ndata: {"seq":3,"type":"delta","text":"好"}\n\n');
    const req = (headers: Record<string, string>, query = "") => new Request(`http://x/s${query}`, { headers });
    expect(afterSeqOf(req({ "last-event-id": "12" }, "?after=5"))).toBe(12);
    expect(afterSeqOf(req({}, "?after=5"))).toBe(5);
    expect(afterSeqOf(req({ "last-event-id": "junk" }))).toBe(0);
  });

  it("streams a generation's messages as events", async () => {
    const messages: StreamMessage[] = [{ seq: 1, type: "delta", text: "a" }, { seq: 2, type: "done" }];
    const res = sseResponse(generationSse(from(messages)));
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const body = await res.text();
    expect(body).toBe('retry: 1000\n\nid: 1\ndata: {"seq":1,"type":"delta","text":"a"}\n\nid: 2\ndata: {"seq":2,"type":"done"}\n\n');
  });

  it("ends a failing source with an error event", async () => {
    const failing = async function* () {
      yield { id: "1", data: { seq: 1 } };
      throw new Error("boom");
    };
    const body = await sseResponse(failing()).text();
    expect(body).toContain('event: error\ndata: {"type":"error","error":"The stream failed."}');
  });
});

describe("AsyncQueue", () => {
  it("hands items over in order and ends with undefined once closed", async () => {
    const q = new AsyncQueue<number>();
    q.push(1);
    expect(await q.next()).toBe(1);
    const waiting = q.next();
    q.push(2);
    expect(await waiting).toBe(2);
    const pending = q.next();
    q.close();
    expect(await pending).toBeUndefined();
    q.push(3);
    expect(await q.next()).toBeUndefined();
  });
});

describe("worker metrics", () => {
  it("renders first-token and duration histograms, tokens and engine errors per model", async () => {
    const m = new PipelineMetrics();
    m.observeTtft("demo", 0.2);
    m.observeDuration("demo", 4);
    m.addTokens("demo", 50, 1_000_000);
    m.engineError("demo", "timeout");
    const text = await m.render();
    expect(text).toContain('leitai_generation_first_token_seconds_bucket{le="0.25",model="demo"} 1');
    expect(text).toContain('leitai_generation_first_token_seconds_bucket{le="0.1",model="demo"} 0');
    expect(text).toContain('leitai_generation_duration_seconds_bucket{le="5",model="demo"} 1');
    expect(text).toContain('leitai_generation_duration_seconds_count{model="demo"} 1');
    expect(text).toContain('leitai_generated_tokens_total{model="demo"} 50');
    expect(text).toContain('leitai_engine_errors_total{model="demo",kind="timeout"} 1');
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    // The heartbeat's rate for the admin pages: 50 tokens over the 10 s window.
    expect(m.tokensPerSecond("demo", 1_000_000)).toBe(5);
  });

  it("reads queue depths at scrape time, and drops them when Redis does not answer", async () => {
    let redisUp = true;
    const m = new PipelineMetrics({
      queueDepths: async (states): Promise<QueueDepth[]> => {
        if (!redisUp) throw new Error("Connection is closed.");
        expect(states).toEqual(["waiting", "prioritized", "delayed", "active", "failed"]);
        return [{ queue: "ratings", counts: { waiting: 2 } }, { queue: "generate-m1", model: "demo", counts: { active: 1 } }];
      },
    });
    const text = await m.render();
    expect(text).toContain('leitai_queue_jobs{queue="ratings",state="waiting"} 2');
    expect(text).toContain('leitai_queue_jobs{queue="ratings",state="failed"} 0');
    expect(text).toContain('leitai_queue_jobs{queue="generate-m1",state="active",model="demo"} 1');
    redisUp = false;
    const without = await m.render();
    expect(without).not.toContain("leitai_queue_jobs{");
    expect(without).toContain("process_cpu_seconds_total");
  });

  it("counts job outcomes per queue: completed, retried while attempts are left, failed for good", async () => {
    const m = new PipelineMetrics();
    const worker = Object.assign(new EventEmitter(), { name: "generate-m1" });
    m.observeJobs(worker as unknown as Worker, "demo");
    worker.emit("completed", {});
    worker.emit("failed", { finishedOn: undefined }, new Error("busy"));
    worker.emit("failed", { finishedOn: Date.now() }, new Error("busy"));
    const text = await m.render();
    for (const outcome of ["completed", "retried", "failed"]) {
      expect(text).toContain(`leitai_queue_jobs_finished_total{queue="generate-m1",model="demo",outcome="${outcome}"} 1`);
    }
  });
});

describe("runtime supervisor config", () => {
  it("parses slug=path lists and rejects malformed entries", () => {
    expect(parseRuntimeModels("a=/m/a, b=/m/b=x")).toEqual([{ name: "a", path: "/m/a" }, { name: "b", path: "/m/b=x" }]);
    expect(parseRuntimeModels("")).toEqual([]);
    expect(() => parseRuntimeModels("justapath")).toThrow(/slug=path/);
    expect(maxNumSeqsOf(["--device", "cuda", "--max-num-seqs", "32"])).toBe(32);
    expect(maxNumSeqsOf(["--max-num-seqs=16"])).toBe(16);
    expect(maxNumSeqsOf(["--device", "cpu"])).toBeUndefined();
  });
});
