import { errors, type ErrorText } from "../errors";
import { redis } from "../redis";
import type { Voter } from "../voter-id";
import type { ArenaSettings } from "./arena-settings";

/**
 * Fixed-window counters in Redis, one per key; throws a 429 with the seconds left in the
 * window once `limit` is passed. INCR + EXPIRE NX in one round trip. The window's length is in
 * the key, so a changed window starts counting afresh instead of reusing another's counts.
 */
export async function enforceRateLimit({ surface, keys, windowS, message }: {
  surface: string;
  keys: { key: string; limit: number }[];
  windowS: number;
  /** What the voter reads; a generic "too many requests" otherwise. */
  message?: (retryAfterS: number) => ErrorText;
}): Promise<void> {
  const window = Math.floor(Date.now() / 1000 / windowS);
  const pipeline = redis().multi();
  for (const { key } of keys) {
    const k = `ratelimit:${surface}:${key}:${windowS}:${window}`;
    pipeline.incr(k).expire(k, windowS, "NX");
  }
  const results = (await pipeline.exec()) ?? [];
  for (let i = 0; i < keys.length; i++) {
    const count = Number(results[i * 2]?.[1] ?? 0);
    if (count > keys[i]!.limit) {
      const retryAfterS = Math.max(1, (window + 1) * windowS - Math.floor(Date.now() / 1000));
      throw errors.rateLimited(surface, retryAfterS, message?.(retryAfterS));
    }
  }
}

/**
 * Live battles and follow-up turns spend GPU time: each is counted per voter and per IP in the
 * admin's window (/admin/settings). A signed-in voter gets signedInFactor times the limits, also
 * against the IP's count, so a shared address does not hold back an account.
 */
export async function enforceGenerationLimit({ kind, voter, settings }: {
  kind: "live" | "turn";
  voter: Voter;
  settings: ArenaSettings;
}): Promise<void> {
  const factor = voter.userId ? settings.signedInFactor : 1;
  const [perVoter, perIp] = kind === "live"
    ? [settings.liveBattlesPerVoter, settings.liveBattlesPerIp]
    : [settings.turnsPerVoter, settings.turnsPerIp];
  await enforceRateLimit({
    surface: kind === "live" ? "live_battle" : "turn",
    windowS: settings.limitWindowS,
    keys: [
      { key: `voter:${voter.voterKey}`, limit: perVoter * factor },
      { key: `ip:${voter.ipHash}`, limit: perIp * factor },
    ],
    message: (s) => ({ key: kind === "live" ? "liveLimited" : "turnLimited", values: { s } }),
  });
}
