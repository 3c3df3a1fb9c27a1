import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { pinClientAddress } from "@/lib/web/server";
import { anonymousVoteTarget } from "@/lib/web/vote-fast-path";

function request({ method = "POST", url = "/api/battles/b1/vote", headers = {} as Record<string, string>, remote = "::ffff:10.0.0.5" } = {}) {
  return { method, url, headers: { ...headers }, socket: { remoteAddress: remote } } as unknown as IncomingMessage;
}

describe("pinClientAddress", () => {
  it("replaces a client's X-Forwarded-For and X-Real-IP with the socket address", () => {
    const req = request({ headers: { "x-forwarded-for": "203.0.113.7", "x-real-ip": "203.0.113.8" } });
    pinClientAddress(req, false);
    expect(req.headers["x-forwarded-for"]).toBe("10.0.0.5");
    expect(req.headers["x-real-ip"]).toBeUndefined();
  });

  it("keeps a trusted proxy's header, and falls back to the socket without one", () => {
    const proxied = request({ headers: { "x-forwarded-for": "198.51.100.1, 203.0.113.7" } });
    pinClientAddress(proxied, true);
    expect(proxied.headers["x-forwarded-for"]).toBe("198.51.100.1, 203.0.113.7");
    const direct = request({ remote: "127.0.0.1" });
    pinClientAddress(direct, true);
    expect(direct.headers["x-forwarded-for"]).toBe("127.0.0.1");
  });
});

describe("anonymousVoteTarget", () => {
  it("takes anonymous POSTs to a battle's vote URL", () => {
    expect(anonymousVoteTarget(request())?.battleId).toBe("b1");
    expect(anonymousVoteTarget(request({ url: "/api/battles/b1/vote?x=1" }))?.battleId).toBe("b1");
    const withCookie = anonymousVoteTarget(request({ headers: { cookie: "theme=dark; leitai_voter=abc.def" } }));
    expect(withCookie?.cookies.get("leitai_voter")).toBe("abc.def");
  });

  it("leaves signed-in voters, other methods and other paths to Next.js", () => {
    expect(anonymousVoteTarget(request({ headers: { cookie: "next-auth.session-token=x; leitai_voter=a.b" } }))).toBeNull();
    expect(anonymousVoteTarget(request({ headers: { cookie: "__Secure-next-auth.session-token=x" } }))).toBeNull();
    expect(anonymousVoteTarget(request({ method: "GET" }))).toBeNull();
    expect(anonymousVoteTarget(request({ url: "/api/battles/b1/vote/extra" }))).toBeNull();
    expect(anonymousVoteTarget(request({ url: "/api/battles/b1" }))).toBeNull();
    expect(anonymousVoteTarget(request({ url: "/api/battles/%E0%A4%A/vote" }))).toBeNull();
  });
});
