import type { ChildProcess } from "node:child_process";
import type { Model } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { cancelGeneration, createAndEnqueue } from "@/lib/generations";
import { DEFAULT_GENERATION_PARAMS, generationLogKey, type GenerationParams, type StreamMessage } from "@/lib/pipeline/contracts";
import { chatRequestBody } from "@/lib/pipeline/engine-client";
import { engineTargetOf } from "@/lib/pipeline/engine-target";
import { generationEvents } from "@/lib/pipeline/events";
import { redis } from "@/lib/redis";
import type { GenerationWorkers } from "@/workers/pool";
import type { RuntimeSupervisor } from "@/workers/runtime-supervisor";
import { ADMIN } from "../support/users";
import { Client } from "../support/http";
import { freePort, SLOW_CASE_MS, startSite } from "../support/processes";
import { collect, createModel, expectSeqsContiguous, finishedGeneration, startWorkers, textOf, waitFor, releasePipeline } from "./helpers";
import { runningSequences, startRuntime, writeDemoModels } from "./runtime-support";

// The pipeline against the real gpu-runtime serving two tiny random models on CPU.

const greedy: GenerationParams = { ...DEFAULT_GENERATION_PARAMS, temperature: 0, maxTokens: 48, seed: 7 };
const ask = (content: string) => [{ role: "user" as const, content }];

/** Reads an SSE response: stops after `limit` events (then aborts) or at the end. */
async function readSse(res: Response, limit = Infinity, abort?: AbortController): Promise<{ id: string; data: StreamMessage }[]> {
  const events: { id: string; data: StreamMessage }[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return events;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const id = /^id: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (id && data) events.push({ id, data: JSON.parse(data) as StreamMessage });
      if (events.length >= limit) {
        abort?.abort();
        await reader.cancel().catch(() => undefined);
        return events;
      }
    }
  }
}

describe("generation pipeline on the gpu-runtime", { timeout: SLOW_CASE_MS }, () => {
  let runtime: RuntimeSupervisor;
  let runtimeUrl: string;
  let models: Model[];
  let workers: GenerationWorkers;

  beforeAll(async () => {
    const demos = writeDemoModels(["demo-a", "demo-b"]);
    const port = await freePort();
    runtimeUrl = `http://127.0.0.1:${port}`;
    runtime = await startRuntime(demos, port);
    models = [];
    for (const d of demos) {
      models.push(await createModel({ kind: "local", engine: { path: d.path, runtimeUrl, servedName: d.name } }));
    }
    workers = await startWorkers(models, { defaultConcurrency: 8, timeouts: { connectMs: 5_000, firstTokenMs: 30_000, idleMs: 10_000 } });
  });

  afterAll(async () => {
    await workers?.close(2000);
    await runtime?.stop();
    await releasePipeline();
  });

  it("streams to an SSE client the stored text, which is the runtime's non-streamed greedy answer", async () => {
    const sitePort = await freePort();
    let site: ChildProcess | undefined;
    try {
      site = await startSite(sitePort, {});
      const admin = new Client(`http://127.0.0.1:${sitePort}`);
      await admin.signIn(ADMIN.email, ADMIN.password);
      const messages = ask("用一句话介绍长城。");
      const generation = await createAndEnqueue({ modelId: models[0]!.id, purpose: "test", messages, params: greedy });
      const res = await admin.fetch(`/api/generations/${generation.id}/stream`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/event-stream");
      const events = await readSse(res);
      const row = await db.generation.findUniqueOrThrow({ where: { id: generation.id } });
      expect(row.status).toBe("completed");
      expect(events.at(-1)?.data.type).toBe("done");
      expect(events.every((e) => e.id === String(e.data.seq))).toBe(true);
      expect(textOf(events.map((e) => e.data))).toBe(row.text);
      expect(row.text.length).toBeGreaterThan(0);
      const body: Record<string, unknown> = { ...chatRequestBody(engineTargetOf(models[0]!), messages, greedy), stream: false };
      delete body.stream_options;
      const whole = await (await fetch(`${runtimeUrl}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })).json();
      expect(whole.choices[0].message.content).toBe(row.text);
      expect(row.completionTokens).toBe(whole.usage.completion_tokens);

      // Disconnect after a few events, reconnect with Last-Event-ID: every token exactly once.
      const long = await createAndEnqueue({ modelId: models[1]!.id, purpose: "test", messages: ask("讲一个很长的故事。"), params: { ...greedy, maxTokens: 300 } });
      const abort = new AbortController();
      const first = await readSse(await admin.fetch(`/api/generations/${long.id}/stream`, { signal: abort.signal }), 20, abort);
      const rest = await readSse(await admin.fetch(`/api/generations/${long.id}/stream`, { headers: { "last-event-id": first.at(-1)!.id } }));
      const all = [...first, ...rest].map((e) => e.data);
      expect(expectSeqsContiguous(all)).toBe(true);
      expect(textOf(all)).toBe((await db.generation.findUniqueOrThrow({ where: { id: long.id } })).text);
      // Voters cannot read raw generations.
      expect((await new Client(`http://127.0.0.1:${sitePort}`).fetch(`/api/generations/${long.id}/stream`)).status).toBe(401);
    } finally {
      site?.kill();
    }
  });

  it("gives a viewer who arrives halfway, and one who reconnects, every token exactly once", async () => {
    const generation = await createAndEnqueue({ modelId: models[0]!.id, purpose: "test", messages: ask("请详细解释什么是机器学习。"), params: { ...greedy, maxTokens: 400 } });
    const early = collect(generationEvents(generation.id));
    // Wait until about half of the answer is in the log, then join.
    const half = await waitFor(async () => {
      const n = await redis().llen(generationLogKey(generation.id));
      return n >= 150 ? n : null;
    }, 30_000, "half of the tokens");
    expect((await db.generation.findUniqueOrThrow({ where: { id: generation.id } })).status).toBe("running");
    const late = collect(generationEvents(generation.id));
    // Reconnecting viewer: reads 50 messages, goes away, comes back after the last one it saw.
    const partial: StreamMessage[] = [];
    for await (const m of generationEvents(generation.id)) {
      partial.push(m);
      if (partial.length === 50) break;
    }
    const resumed = await collect(generationEvents(generation.id, { afterSeq: partial.at(-1)!.seq }));
    const row = await finishedGeneration(generation.id);
    expect(row.completionTokens).toBeGreaterThan(half);
    for (const messages of [await early, await late, [...partial, ...resumed]]) {
      expect(expectSeqsContiguous(messages)).toBe(true);
      expect(textOf(messages)).toBe(row.text);
      expect(messages.at(-1)?.type).toBe("done");
    }
  });

  it("feeds the runtime's batch: 20 generations across two models run several sequences at once", async () => {
    let maxRunning = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const running = await runningSequences(runtimeUrl);
        maxRunning = Math.max(maxRunning, ...Object.values(running));
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const generations = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        createAndEnqueue({ modelId: models[i % 2]!.id, purpose: "test", messages: ask(`第${i}个问题：天空为什么是蓝色的？`), params: { ...greedy, maxTokens: 64 } }),
      ),
    );
    const rows = await Promise.all(generations.map((g) => finishedGeneration(g.id, 60_000)));
    sampling = false;
    await sampler;
    expect(rows.map((r) => r.status)).toEqual(Array(20).fill("completed"));
    expect(maxRunning).toBeGreaterThan(1);
  });

  it("answers a conversation near the end of the context with what the context leaves, not a refusal", async () => {
    const { data } = (await (await fetch(`${runtimeUrl}/v1/models`)).json()) as { data: { id: string; max_model_len: number }[] };
    const contextLen = data.find((m) => m.id === "demo-a")!.max_model_len;
    const promptTokens = async (content: string) => {
      const body: Record<string, unknown> = { ...chatRequestBody(engineTargetOf(models[0]!), ask(content), { ...greedy, maxTokens: 1 }), stream: false };
      delete body.stream_options;
      const res = await fetch(`${runtimeUrl}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      return ((await res.json()) as { usage: { prompt_tokens: number } }).usage.prompt_tokens;
    };
    // A prompt that leaves about 40 tokens of the context: prompt + maxTokens (100) is over it.
    const unit = "天空为什么是蓝色的？";
    const [one, ten] = [await promptTokens(unit), await promptTokens(unit.repeat(10))];
    const perUnit = (ten - one) / 9;
    const content = unit.repeat(Math.floor((contextLen - 40 - one) / perUnit) + 1);
    const used = await promptTokens(content);
    expect(used + 100).toBeGreaterThan(contextLen);
    expect(used).toBeLessThan(contextLen - 5);

    const generation = await createAndEnqueue({ modelId: models[0]!.id, purpose: "test", messages: ask(content), params: { ...greedy, maxTokens: 100 } });
    const row = await finishedGeneration(generation.id, 60_000);
    expect(row.status).toBe("completed");
    expect(row.promptTokens).toBe(used);
    expect(row.completionTokens).toBeGreaterThan(0);
    expect(row.promptTokens! + row.completionTokens!).toBeLessThanOrEqual(contextLen);
  });

  it("frees the runtime's sequence when a running generation is cancelled, long before it would have ended", async () => {
    const generation = await createAndEnqueue({ modelId: models[1]!.id, purpose: "test", messages: ask("写一篇长文章。"), params: { ...greedy, maxTokens: 1500 } });
    await waitFor(async () => (await redis().llen(generationLogKey(generation.id))) >= 10, 30_000, "tokens");
    expect((await runningSequences(runtimeUrl))["demo-b"]).toBe(1);
    await cancelGeneration({ generationId: generation.id });
    await waitFor(async () => (await runningSequences(runtimeUrl))["demo-b"] === 0, 30_000, "the runtime to free the sequence");
    // Freed because of the cancel, not because the answer ran out: far fewer tokens than asked for.
    const tokensAtFree = await redis().llen(generationLogKey(generation.id));
    expect(tokensAtFree).toBeLessThan(1_500);
    const row = await finishedGeneration(generation.id);
    expect(row.status).toBe("cancelled");
    expect(row.completionTokens ?? 0).toBeLessThan(1_500);
  });

  it("restarts the runtime when it dies", async () => {
    const pid = runtime.pid!;
    process.kill(pid, "SIGKILL");
    await waitFor(async () => runtime.restarts === 1 && runtime.pid !== pid, 10_000, "a restart");
    await runtime.waitHealthy(120_000);
    const generation = await createAndEnqueue({ modelId: models[0]!.id, purpose: "test", messages: ask("你好"), params: greedy });
    expect((await finishedGeneration(generation.id, 60_000)).status).toBe("completed");
  });
});
