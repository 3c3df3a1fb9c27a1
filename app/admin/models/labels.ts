import type { ModelKind, ModelStatus } from "@prisma/client";
import type { Catalogue } from "@/lib/i18n";

// A model's kind, status and health as the models pages say them.

type Said = Catalogue["adminModels"];

export function kindLabel(said: Said, kind: ModelKind): string {
  return { local: said.kindLocal, openai: said.kindOpenai, offline: said.kindOffline }[kind];
}

export function statusLabel(said: Said, status: ModelStatus): string {
  return { active: said.statusActive, disabled: said.statusDisabled, retired: said.statusRetired }[status];
}

export function healthLabel(said: Said, label: string): string {
  const labels: Record<string, string> = { healthy: said.healthHealthy, "engine down": said.healthEngineDown, "no worker": said.healthNoWorker, unknown: said.healthUnknown };
  return labels[label] ?? label;
}
