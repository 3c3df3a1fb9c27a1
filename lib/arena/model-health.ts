import { redis } from "../redis";

/**
 * Models with at least one live worker heartbeat (heartbeat:{modelId}:{workerId} keys expire
 * when a worker dies). Live battles only draw these; bank battles replay cached answers and
 * need no engine.
 */
export async function healthyModelIds(): Promise<Set<string>> {
  const ids = new Set<string>();
  let cursor = "0";
  do {
    const [next, keys] = await redis().scan(cursor, "MATCH", "heartbeat:*", "COUNT", 500);
    cursor = next;
    for (const key of keys) {
      const modelId = key.split(":")[1];
      if (modelId) ids.add(modelId);
    }
  } while (cursor !== "0");
  return ids;
}
