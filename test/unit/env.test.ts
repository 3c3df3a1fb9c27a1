import { describe, expect, it } from "vitest";
import { EnvError, parseEnv } from "@/lib/env";

const valid = {
  DATABASE_URL: "postgresql://leitai@127.0.0.1:5432/leitai",
  REDIS_URL: "redis://127.0.0.1:6379",
  NEXTAUTH_SECRET: "x".repeat(32),
  LEITAI_SECRET: "y".repeat(32),
  LEITAI_ENCRYPTION_KEY: "a".repeat(64),
};

function messageOf(source: Record<string, string | undefined>): string {
  try {
    parseEnv(source);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvError);
    return (error as Error).message;
  }
  throw new Error("parseEnv accepted an invalid environment");
}

describe("env", () => {
  it("accepts a complete environment and fills defaults", () => {
    const env = parseEnv(valid);
    expect(env.DATABASE_URL).toBe(valid.DATABASE_URL);
    expect(env.LEITAI_VOTE_LIMIT_PER_VOTER).toBe(60);
    expect(env.LEITAI_RUNTIME_URL).toBe("http://127.0.0.1:8000");
  });

  it("names a missing variable", () => {
    expect(messageOf({ ...valid, DATABASE_URL: undefined })).toContain("DATABASE_URL is required");
  });

  it("treats an empty string as missing", () => {
    expect(messageOf({ ...valid, REDIS_URL: "" })).toContain("REDIS_URL is required");
  });

  it("names a malformed variable and says what is expected", () => {
    expect(messageOf({ ...valid, REDIS_URL: "localhost:6379" })).toContain("REDIS_URL must start with redis://");
    expect(messageOf({ ...valid, LEITAI_ENCRYPTION_KEY: "short" })).toContain("LEITAI_ENCRYPTION_KEY must be 64 hex characters");
    expect(messageOf({ ...valid, NEXTAUTH_SECRET: "short" })).toContain("NEXTAUTH_SECRET must be at least 32 characters");
    expect(messageOf({ ...valid, LEITAI_VOTE_LIMIT_PER_IP: "-3" })).toContain("LEITAI_VOTE_LIMIT_PER_IP");
  });

  it("keeps the metrics token optional, and long when given", () => {
    expect(parseEnv(valid).LEITAI_METRICS_TOKEN).toBeUndefined();
    expect(parseEnv({ ...valid, LEITAI_METRICS_TOKEN: "m".repeat(32) }).LEITAI_METRICS_TOKEN).toBe("m".repeat(32));
    expect(messageOf({ ...valid, LEITAI_METRICS_TOKEN: "guessable" })).toContain("LEITAI_METRICS_TOKEN must be at least 32 characters");
  });

  it("lists every problem at once", () => {
    const message = messageOf({});
    for (const name of ["DATABASE_URL", "REDIS_URL", "NEXTAUTH_SECRET", "LEITAI_SECRET", "LEITAI_ENCRYPTION_KEY"]) {
      expect(message).toContain(name);
    }
  });
});
