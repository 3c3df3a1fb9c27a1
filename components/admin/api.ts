// Browser-side calls to /api/admin/*: one shape for success and for the typed error body.
import { fill } from "@/lib/i18n/lang";

/** The server's error body; `key` and `values` name its catalogue message when it has one. */
export type ApiError = { code: string; message: string; field?: string; fields?: Record<string, string>; key?: string; values?: Record<string, string | number> };
export type ApiResult<T> = { ok: true; status: number; data: T } | { ok: false; status: number; error: ApiError; data: unknown };

/** The words a page gives failures the server did not word: no answer at all, or an answer that is not ours. */
export type ApiTexts = Readonly<Record<"apiNetworkDown" | "apiHttpError", string>>;

export async function callApi<T = unknown>(url: string, init: { method?: string; body?: unknown; raw?: BodyInit } = {}): Promise<ApiResult<T>> {
  const headers: Record<string, string> = {};
  let body: BodyInit | undefined = init.raw;
  if (init.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(init.body);
  }
  let res: Response;
  try {
    res = await fetch(url, { method: init.method ?? (body ? "POST" : "GET"), headers, body });
  } catch {
    // No language here: the page words these two codes (apiErrorText).
    return { ok: false, status: 0, error: { code: "network", message: "" }, data: null };
  }
  const data = (await res.json().catch(() => null)) as { error?: ApiError } | null;
  if (!res.ok) {
    return { ok: false, status: res.status, error: data?.error ?? { code: "http", message: `HTTP ${res.status}`, values: { status: res.status } }, data };
  }
  return { ok: true, status: res.status, data: data as T };
}

/** What a failed call says on the page: the server's own message (in the reader's language), or the page's words for a failure the server did not word. */
export function apiErrorText(error: ApiError, texts: ApiTexts): string {
  if (error.code === "network") return texts.apiNetworkDown;
  if (error.code === "http") return fill(texts.apiHttpError, error.values ?? {});
  return error.message;
}
