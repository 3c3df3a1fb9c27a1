import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decryptSecret, encryptSecret } from "@/lib/secrets";

const key = randomBytes(32).toString("hex");

describe("encryptSecret / decryptSecret", () => {
  it("round-trips, with a fresh IV each time, in the v1 format", () => {
    const a = encryptSecret("sk-secret-密钥", key);
    const b = encryptSecret("sk-secret-密钥", key);
    expect(a).toMatch(/^v1:[\w-]{16}:[\w-]{22}:[\w-]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain("sk-secret");
    expect(decryptSecret(a, key)).toBe("sk-secret-密钥");
  });

  it("refuses a tampered ciphertext, a wrong key and an unknown format", () => {
    const stored = encryptSecret("sk-secret", key);
    const [v, iv, tag, ct] = stored.split(":");
    const flipped = Buffer.from(ct!, "base64url");
    flipped[0]! ^= 1;
    expect(() => decryptSecret([v, iv, tag, flipped.toString("base64url")].join(":"), key)).toThrow();
    expect(() => decryptSecret(stored, randomBytes(32).toString("hex"))).toThrow();
    expect(() => decryptSecret("plain-text-key", key)).toThrow(/format/);
  });
});
