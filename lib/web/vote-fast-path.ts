import type { IncomingMessage, ServerResponse } from "node:http";
import { castVote, voteInput } from "../arena/votes";
import { errorPayload, errors } from "../errors";
import { assertCleanText, parseInput } from "../input";
import { clientIp, hashIp, isSessionCookie, verifyVoterCookie, VOTER_COOKIE } from "../voter-id";
import { parseCookies, requestLang, send } from "./respond";

// Votes are the arena's hottest request. Through Next.js one costs about three times the CPU
// of the vote itself (BENCHMARKS.md, "Vote endpoint"), so the web server answers anonymous
// votes here with the same input schema, voter cookie, error payloads and castVote() as
// app/api/battles/[id]/vote/route.ts. Signed-in voters go to that handler (next-auth).

const VOTE_PATH = /^\/api\/battles\/([^/?#]+)\/vote\/?(?:\?.*)?$/;
/** A vote is a winner and a reason of at most 280 characters. */
const MAX_BODY_BYTES = 8 * 1024;

/** The battle id when this request is an anonymous vote; null hands the request to Next.js. */
export function anonymousVoteTarget(req: IncomingMessage): { battleId: string; cookies: Map<string, string> } | null {
  if (req.method !== "POST") return null;
  const match = VOTE_PATH.exec(req.url ?? "");
  if (!match) return null;
  const cookies = parseCookies(req.headers.cookie);
  for (const name of cookies.keys()) if (isSessionCookie(name)) return null;
  try {
    return { battleId: decodeURIComponent(match[1]!), cookies };
  } catch {
    return null;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => errors.badRequest("input", { key: "bodyTooLarge", values: { n: MAX_BODY_BYTES } });
    if (Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES) {
      req.resume(); // discarded, so the answer can still be sent on this connection
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else reject(tooLarge());
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export async function answerAnonymousVote(
  req: IncomingMessage,
  res: ServerResponse,
  { battleId, cookies }: { battleId: string; cookies: Map<string, string> },
): Promise<void> {
  try {
    const raw = await readBody(req);
    assertCleanText({ id: battleId }, { root: "params" }); // as lib/http.ts checks a route's params
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      throw errors.badRequest("input", { key: "bodyNotJson" });
    }
    const input = parseInput(body, voteInput);
    const id = verifyVoterCookie(cookies.get(VOTER_COOKIE));
    if (!id) throw errors.forbidden("vote", { key: "voteNotYours" });
    const headerList = { get: (name: string) => [req.headers[name] ?? []].flat().join(", ") || null };
    const voter = { voterKey: `anon:${id}`, userId: null, ipHash: hashIp(clientIp(headerList)) };
    send(res, 200, {}, await castVote({ battleId, voter, winner: input.winner, reason: input.reason || null }));
  } catch (error) {
    // In the reader's language, as lib/http.ts's route() answers.
    const { status, headers, body } = errorPayload(error, requestLang(req, cookies));
    if (!res.headersSent) send(res, status, headers, body);
  }
}
