import { getModelHealth } from "../pipeline/health";

/**
 * Models with at least one live worker heartbeat. Live battles only draw these; bank battles
 * replay cached answers and need no engine.
 */
export async function healthyModelIds(): Promise<Set<string>> {
  const health = await getModelHealth();
  return new Set([...health].filter(([, h]) => h.healthy).map(([id]) => id));
}
