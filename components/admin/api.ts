// Browser-side calls to /api/admin/*: one shape for success and for the typed error body.
export type ApiError = { code: string; message: string; field?: string; fields?: Record<string, string> };
export type ApiResult<T> = { ok: true; status: number; data: T } | { ok: false; status: number; error: ApiError; data: unknown };

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
    return { ok: false, status: 0, error: { code: "network", message: "The server could not be reached." }, data: null };
  }
  const data = (await res.json().catch(() => null)) as { error?: ApiError } | null;
  if (!res.ok) {
    return { ok: false, status: res.status, error: data?.error ?? { code: "http", message: `HTTP ${res.status}` }, data };
  }
  return { ok: true, status: res.status, data: data as T };
}
