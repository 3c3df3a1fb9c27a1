import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { ATTEMPT_SEQ_STRIDE, attemptSeqBase } from "@/lib/pipeline/contracts";
import { laneOf, modelQueueName } from "@/lib/pipeline/queues";
import { EngineMonitor, EngineSlots, reservedLiveSlots } from "@/workers/engines";

const tick = () => new Promise((r) => setImmediate(r));

describe("engine slots", () => {
  it("never lets pre-generation take the reserved live slots", async () => {
    const slots = new EngineSlots(4, 1);
    const pregen = await Promise.all([0, 1, 2].map(() => slots.acquire("pregen")));
    let fourth = false;
    void slots.acquire("pregen").then(() => (fourth = true));
    await tick();
    expect(fourth).toBe(false);
    expect(slots.inUse).toBe(3);
    // The reserved slot goes to live at once.
    const live = await slots.acquire("live");
    expect(slots.inUse).toBe(4);
    live();
    await tick();
    // Freed, it still does not go to pre-generation beyond its share.
    expect(fourth).toBe(false);
    pregen[0]!();
    await tick();
    expect(fourth).toBe(true);
    expect(slots.inUse).toBe(3);
  });

  it("never makes live work wait for pre-generation: the runtime preempts pre-generation for it", async () => {
    const slots = new EngineSlots(2, 1);
    await slots.acquire("pregen");
    await Promise.all([slots.acquire("live"), slots.acquire("live")]);
    expect(slots.inUse).toBe(3);
    // Past the engine's batch, pre-generation waits until live and pre-generation fit again.
    let started = false;
    void slots.acquire("pregen").then(() => (started = true));
    await tick();
    expect(started).toBe(false);
  });

  it("hands a freed slot to waiting live work before any waiting pre-generation", async () => {
    const slots = new EngineSlots(1, 0);
    const held = await slots.acquire("live");
    const order: string[] = [];
    void slots.acquire("pregen").then(() => order.push("pregen"));
    await tick();
    const secondLive = slots.acquire("live").then((release) => {
      order.push("live");
      return release;
    });
    await tick();
    expect(order).toEqual([]);
    held();
    (await secondLive)();
    await tick();
    expect(order).toEqual(["live", "pregen"]);
  });

  it("never hands out more slots than it has when several are freed at once", async () => {
    const slots = new EngineSlots(3, 0);
    const held = await Promise.all([0, 1, 2].map(() => slots.acquire("live")));
    const waiting = Array.from({ length: 5 }, () => slots.acquire("live"));
    held.forEach((release) => release());
    held.forEach((release) => release()); // releasing twice gives nothing back twice
    await tick();
    expect(slots.inUse).toBe(3);
    const granted = await Promise.all(waiting.slice(0, 3));
    expect(granted).toHaveLength(3);
  });

  it("lets a waiter give up when its job is aborted", async () => {
    const slots = new EngineSlots(1, 0);
    const held = await slots.acquire("live");
    const controller = new AbortController();
    const waiting = slots.acquire("pregen", controller.signal);
    controller.abort("shutdown");
    await expect(waiting).rejects.toThrow("shutdown");
    held();
    expect(slots.inUse).toBe(0);
  });

  it("keeps a quarter of the batch for live work unless told otherwise", () => {
    expect(reservedLiveSlots(16, 0)).toBe(4);
    expect(reservedLiveSlots(2, undefined)).toBe(1);
    expect(reservedLiveSlots(1, 0)).toBe(0);
    expect(reservedLiveSlots(8, 3)).toBe(3);
    expect(reservedLiveSlots(4, 9)).toBe(3);
  });
});

describe("lanes and attempts", () => {
  it("puts pre-generation on a queue of its own", () => {
    expect(laneOf("live")).toBe("live");
    expect(laneOf("test")).toBe("live");
    expect(laneOf("pregen")).toBe("pregen");
    expect(modelQueueName("m1", "live")).not.toBe(modelQueueName("m1", "pregen"));
    expect(modelQueueName("m1", "pregen")).not.toContain(":");
  });

  it("numbers each attempt's stream after every earlier one", () => {
    expect(attemptSeqBase(0)).toBe(0);
    expect(attemptSeqBase(1)).toBe(0);
    expect(attemptSeqBase(2)).toBe(ATTEMPT_SEQ_STRIDE);
    expect(attemptSeqBase(3)).toBe(2 * ATTEMPT_SEQ_STRIDE);
  });
});

describe("engine monitor", () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it("knows a runtime is down until /health answers, and waits for it", async () => {
    const monitor = new EngineMonitor({ pollMs: 20, probeTimeoutMs: 500 });
    server = createServer((_req, res) => res.writeHead(200).end("ok"));
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    const url = `http://127.0.0.1:${port}/health`;
    await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    expect(monitor.isUp(url)).toBe(true); // never asked
    expect(await monitor.probe(url)).toBe(false);
    expect(monitor.isUp(url)).toBe(false);
    expect(await monitor.waitUntilUp(url, Date.now() + 100)).toBe(false);

    const waiting = monitor.waitUntilUp(url, Date.now() + 10_000);
    server = createServer((_req, res) => res.writeHead(200).end("ok"));
    await new Promise<void>((r) => server!.listen(port, "127.0.0.1", () => r()));
    expect(await waiting).toBe(true);
    expect(monitor.isUp(url)).toBe(true);
  });

  it("counts an API that answers 401 on /models as up, and 503 as down", async () => {
    let status = 401;
    server = createServer((_req, res) => res.writeHead(status).end());
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/models`;
    const monitor = new EngineMonitor();
    expect(await monitor.probe(url)).toBe(true);
    status = 503;
    expect(await monitor.probe(url)).toBe(false);
  });
});
