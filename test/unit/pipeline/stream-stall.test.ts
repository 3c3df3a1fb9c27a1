import { describe, expect, it } from "vitest";
import { parseEnv } from "@/lib/env";
import { sseResponse, StreamStalledError } from "@/lib/pipeline/sse";

const required = {
  DATABASE_URL: "postgresql://leitai@127.0.0.1:5432/leitai",
  REDIS_URL: "redis://127.0.0.1:6379",
  NEXTAUTH_SECRET: "x".repeat(32),
  LEITAI_SECRET: "y".repeat(32),
  LEITAI_ENCRYPTION_KEY: "a".repeat(64),
};

describe("a stalled stream", () => {
  it("ends with an error event that says it stalled, without an id (a reconnect resumes after the last message)", async () => {
    const stalling = async function* () {
      yield { id: "1", data: { seq: 1, type: "delta", text: "a" } };
      throw new StreamStalledError(50);
    };
    const body = await sseResponse(stalling()).text();
    expect(body).toBe(
      'retry: 1000\n\nid: 1\ndata: {"seq":1,"type":"delta","text":"a"}\n\n' +
        'event: error\ndata: {"type":"error","reason":"stalled","error":"The answer stopped arriving."}\n\n',
    );
  });

  it("other failures still end with the generic error event", async () => {
    const failing = async function* () {
      yield* [];
      throw new Error("boom");
    };
    expect(await sseResponse(failing()).text()).toContain('event: error\ndata: {"type":"error","error":"The stream failed."}');
  });
});

describe("LEITAI_STREAM_STALL_MS", () => {
  it("defaults to two minutes and takes a positive number of milliseconds", () => {
    expect(parseEnv(required).LEITAI_STREAM_STALL_MS).toBe(120_000);
    expect(parseEnv({ ...required, LEITAI_STREAM_STALL_MS: "1500" }).LEITAI_STREAM_STALL_MS).toBe(1500);
    expect(() => parseEnv({ ...required, LEITAI_STREAM_STALL_MS: "0" })).toThrow(/LEITAI_STREAM_STALL_MS/);
    expect(() => parseEnv({ ...required, LEITAI_STREAM_STALL_MS: "soon" })).toThrow(/LEITAI_STREAM_STALL_MS/);
  });
});
