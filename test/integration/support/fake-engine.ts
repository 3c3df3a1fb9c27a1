import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

// A small OpenAI-compatible streaming server whose behaviour is chosen by the request's model
// name, for the engine failures a real runtime will not produce on demand:
//   "tokens:N:MS"   N tokens "w0 w1 …", one every MS ms, then usage and [DONE]
//   "stall-first"   headers, then silence      "stall-mid"  two tokens, then silence
//   "malformed"     a chunk that is not JSON    "reject"     HTTP 400 with an OpenAI error
//   "overloaded"    HTTP 429                     "truncated"  two tokens, then the connection closes
//   "judge:A"       a short reason, then the verdict line [[A]] (an AI judge that always picks A)
//   "judge:garbage" a reason and no verdict marker (an AI judge whose output cannot be parsed)
//   "judge:score"   a reason, then the scores line [[7, 5]] (a 10-point judge that always prefers A)

export type FakeRequest = { model: string; body: Record<string, unknown>; authorization: string | undefined };

export class FakeEngine {
  readonly requests: FakeRequest[] = [];
  /** Streams currently open (a client that aborts closes its stream). */
  open = 0;
  maxOpen = 0;
  private server: Server | null = null;

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/v1`;
  }

  /** `port`: listen there again after stop() (an engine coming back). */
  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(port, "127.0.0.1", resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** The text "tokens:N:MS" streams. */
  static text(n: number): string {
    return Array.from({ length: n }, (_, i) => `w${i} `).join("");
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    if (req.method === "GET") {
      // GET /v1/models: what a worker asks to learn whether the engine is up.
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "list", data: [] }));
      return;
    }
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const body = JSON.parse(raw || "{}") as Record<string, unknown>;
    const model = String(body.model ?? "");
    this.requests.push({ model, body, authorization: req.headers.authorization });
    if (model === "reject") {
      res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "max_tokens is too large", type: "invalid_request_error" } }));
      return;
    }
    if (model === "overloaded") {
      res.writeHead(429, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "busy" } }));
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    this.open += 1;
    this.maxOpen = Math.max(this.maxOpen, this.open);
    let closed = false;
    res.on("close", () => {
      closed = true;
      this.open -= 1;
    });
    const send = (data: unknown) => res.write(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
    const chunk = (content: string | null, finish: string | null = null, usage?: unknown) =>
      send({ id: "x", object: "chat.completion.chunk", choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish }], ...(usage ? { usage } : {}) });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    chunk("");
    if (model === "stall-first") return; // never answers; the client's timeout must fire
    if (model === "malformed") {
      chunk("w0 ");
      send("{this is not json");
      return;
    }
    if (model === "stall-mid" || model === "truncated") {
      chunk("w0 ");
      chunk("w1 ");
      if (model === "truncated") setTimeout(() => res.destroy(), 50);
      return;
    }
    if (model === "judge:A" || model === "judge:garbage" || model === "judge:score") {
      const verdict = { "judge:A": "[[A]]", "judge:score": "[[7, 5]]", "judge:garbage": "No verdict today." }[model];
      for (const part of ["The first answer ", "reads better.\n", verdict]) chunk(part);
      chunk(null, "stop", { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
      send("[DONE]");
      res.end();
      return;
    }
    const [, n = "5", ms = "0"] = model.split(":");
    for (let i = 0; i < Number(n); i++) {
      if (closed) return;
      chunk(`w${i} `);
      if (Number(ms) > 0) await sleep(Number(ms));
    }
    if (closed) return;
    chunk(null, "stop", { prompt_tokens: 7, completion_tokens: Number(n), total_tokens: 7 + Number(n) });
    send("[DONE]");
    res.end();
  }
}
