// A small cookie-keeping HTTP client for the running test server.
export const BASE_URL = process.env.LEITAI_TEST_BASE_URL ?? "http://localhost:3210";

export class Client {
  private cookies = new Map<string, string>();

  constructor(readonly baseUrl: string = BASE_URL) {}

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set("cookie", this.cookieHeader());
    const res = await fetch(new URL(path, this.baseUrl), { ...init, headers, redirect: "manual" });
    for (const raw of res.headers.getSetCookie()) {
      const [pair] = raw.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (value === "" || /max-age=0/i.test(raw)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  async json<T = unknown>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
    const res = await this.fetch(path, init);
    return { status: res.status, body: (await res.json()) as T };
  }

  /** Signs in through next-auth's credentials endpoint, like the sign-in form does. */
  async signIn(email: string, password: string): Promise<void> {
    const { body } = await this.json<{ csrfToken: string }>("/api/auth/csrf");
    const res = await this.fetch("/api/auth/callback/credentials", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrfToken: body.csrfToken, email, password, json: "true" }),
    });
    if (![200, 302].includes(res.status) || !this.cookieHeader().includes("session-token")) {
      throw new Error(`sign-in as ${email} failed with ${res.status}`);
    }
  }
}
