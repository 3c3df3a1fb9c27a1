import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAndEnqueue } from "@/lib/generations";
import { DEFAULT_GENERATION_PARAMS } from "@/lib/pipeline/contracts";
import { modelQueueName } from "@/lib/pipeline/queues";
import { createUser } from "@/lib/users";
import { createModel, finishedGeneration, releasePipeline, waitFor } from "./pipeline/helpers";
import { FakeEngine } from "./support/fake-engine";
import { Client } from "./support/http";
import { freePort, startSite } from "./support/processes";
import { ADMIN } from "./support/users";
import { spawnWorker, workerReady, type WorkerProcess } from "./support/worker-process";

// Prometheus metrics of the site (its own /metrics, for admins and a bearer token only) and
// of a worker (on its health port): request durations by route template, process series,
// queue depths, job outcomes, and each model's first-token and duration histograms.

const TOKEN = randomBytes(32).toString("base64url");

/** The value of the sample `name{labels}`, where labels is the exact label text. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("the site's /metrics", () => {
  let site: ChildProcess;
  let base: string;

  async function signedIn(email: string, password: string): Promise<Client> {
    const client = new Client(base);
    await client.signIn(email, password);
    return client;
  }

  async function newUser(role: "voter" | "admin", mustChangePassword = false): Promise<Client> {
    const email = `metrics-${role}-${randomBytes(5).toString("hex")}@test.leitai`;
    const password = randomBytes(12).toString("base64url");
    await createUser({ email, password, role, mustChangePassword });
    return signedIn(email, password);
  }

  beforeAll(async () => {
    const port = await freePort();
    site = await startSite(port, { LEITAI_METRICS_TOKEN: TOKEN });
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(() => {
    site?.kill("SIGTERM");
  });

  it("answers 401 to anonymous visitors and wrong tokens, 403 to voters and to an admin who must change the password", async () => {
    const anonymous = await fetch(`${base}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await anonymous.json()).toMatchObject({ error: { code: "unauthorized:auth" } });
    expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: `Basic ${TOKEN}` } })).status).toBe(401);

    const voter = await (await newUser("voter")).fetch("/metrics");
    expect(voter.status).toBe(403);
    expect(await voter.text()).not.toContain("leitai_");
    expect((await (await newUser("admin", true)).fetch("/metrics")).status).toBe(403);
  });

  it("serves an admin and the bearer token: request durations by route template and status, and process series", async () => {
    const slug = `no-such-model-${randomBytes(4).toString("hex")}`;
    expect((await fetch(`${base}/api/leaderboard`)).status).toBe(200);
    await fetch(`${base}/models/${slug}`);
    expect((await fetch(`${base}/no/such/page`)).status).toBe(404);
    const html = await (await fetch(`${base}/`)).text();
    const asset = /\/_next\/static\/[^"']+\.js/.exec(html)?.[0];
    expect(asset).toBeDefined();
    expect((await fetch(`${base}${asset}`)).status).toBe(200);

    const admin = await signedIn(ADMIN.email, ADMIN.password);
    const byAdmin = await admin.fetch("/metrics");
    expect(byAdmin.status).toBe(200);
    expect(await byAdmin.text()).toContain("leitai_http_request_duration_seconds");

    const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const count = (labels: string) => sample(text, `leitai_http_request_duration_seconds_count{${labels}}`) ?? 0;
    expect(count('method="GET",route="/api/leaderboard",status="200"')).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^leitai_http_request_duration_seconds_count\{method="GET",route="\/models\/\[slug\]",status="\d{3}"\} [1-9]/m);
    expect(count('method="GET",route="other",status="404"')).toBeGreaterThanOrEqual(1);
    expect(count('method="GET",route="/_next",status="200"')).toBeGreaterThanOrEqual(1);
    expect(count('method="GET",route="/metrics",status="401"')).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^leitai_http_request_duration_seconds_bucket\{le="0\.5",method="GET",route="\/api\/leaderboard",status="200"\} \d+/m);
    // Labels are templates, never the paths themselves.
    expect(text).not.toContain(slug);
    expect(text).not.toContain("/no/such/page");
    // The process's own series.
    expect(sample(text, "process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(sample(text, "process_cpu_seconds_total")).toBeGreaterThan(0);
    expect(sample(text, "nodejs_eventloop_lag_seconds")).toBeGreaterThanOrEqual(0);
    // Its histogram restarts at every scrape: one right after another may have no sample yet (0).
    expect(sample(text, "nodejs_eventloop_lag_p99_seconds")).toBeGreaterThanOrEqual(0);
    expect(sample(text, "nodejs_heap_size_used_bytes")).toBeGreaterThan(0);
  });
});

describe("a worker's /metrics", () => {
  let engine: FakeEngine;
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    engine = await new FakeEngine().start();
  });

  afterAll(async () => {
    if (worker && worker.child.exitCode === null) {
      const exited = new Promise((r) => worker!.child.once("exit", r));
      worker.child.kill("SIGTERM");
      await exited;
    }
    await engine.stop();
    await releasePipeline();
  });

  it("reports queue depths, the job's outcome and the model's first-token and duration histograms", async () => {
    const model = await createModel({ kind: "openai", engine: { baseUrl: engine.baseUrl, remoteModel: "tokens:5:10" } });
    worker = await spawnWorker(`metrics-${randomBytes(3).toString("hex")}`, { LEITAI_WORKER_MODELS: model.slug });
    await workerReady(worker);
    const metricsUrl = `http://127.0.0.1:${worker.healthPort}/metrics`;
    const before = await (await fetch(metricsUrl)).text();
    for (const queue of ["pregen", "ratings", "judge-runs"]) {
      for (const state of ["waiting", "delayed", "active", "failed"]) expect(sample(before, `leitai_queue_jobs{queue="${queue}",state="${state}"}`)).toBeGreaterThanOrEqual(0);
    }
    const live = modelQueueName(model.id, "live");
    expect(sample(before, `leitai_queue_jobs{queue="${live}",state="waiting",model="${model.slug}"}`)).toBe(0);
    expect(sample(before, `leitai_queue_jobs{queue="${modelQueueName(model.id, "pregen")}",state="waiting",model="${model.slug}"}`)).toBe(0);
    expect(sample(before, "process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(sample(before, "nodejs_eventloop_lag_seconds")).toBeGreaterThanOrEqual(0);

    const generation = await createAndEnqueue({ modelId: model.id, purpose: "live", messages: [{ role: "user", content: "hi" }], params: DEFAULT_GENERATION_PARAMS });
    expect((await finishedGeneration(generation.id)).status).toBe("completed");
    const completed = `leitai_queue_jobs_finished_total{queue="${live}",model="${model.slug}",outcome="completed"}`;
    const after = await waitFor(async () => {
      const text = await (await fetch(metricsUrl)).text();
      return sample(text, completed) === 1 ? text : null;
    }, 10_000, "the worker to count the completed job");
    expect(sample(after, `leitai_generation_first_token_seconds_count{model="${model.slug}"}`)).toBe(1);
    expect(sample(after, `leitai_generation_first_token_seconds_bucket{le="+Inf",model="${model.slug}"}`)).toBe(1);
    expect(sample(after, `leitai_generation_duration_seconds_count{model="${model.slug}"}`)).toBe(1);
    expect(sample(after, `leitai_generation_duration_seconds_sum{model="${model.slug}"}`)).toBeGreaterThan(0);
    expect(sample(after, `leitai_generated_tokens_total{model="${model.slug}"}`)).toBe(5);
    expect(sample(after, `leitai_queue_jobs{queue="${live}",state="active",model="${model.slug}"}`)).toBe(0);
  });
});
