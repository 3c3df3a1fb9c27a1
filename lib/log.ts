// Structured one-line logs; the detail of an error stays here, never in a response.
type Level = "info" | "warn" | "error";

function write(level: Level, event: string, detail?: unknown) {
  const entry: Record<string, unknown> = { t: new Date().toISOString(), level, event };
  if (detail instanceof Error) entry.error = { name: detail.name, message: detail.message, stack: detail.stack };
  else if (detail !== undefined) entry.detail = detail;
  const line = JSON.stringify(entry);
  if (level === "error") console.error(line);
  else console.log(line);
}

export const log = {
  info: (event: string, detail?: unknown) => write("info", event, detail),
  warn: (event: string, detail?: unknown) => write("warn", event, detail),
  error: (event: string, detail?: unknown) => write("error", event, detail),
};
