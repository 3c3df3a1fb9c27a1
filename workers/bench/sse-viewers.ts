// Viewer side of the SSE fan-out benchmark: opens N streams, records when every message
// arrives, and prints one JSON line with the latencies (ms) and what was missing.
import { request, Agent } from "node:http";

const [url, countArg] = process.argv.slice(2);
const count = Number(countArg);
const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
const now = () => performance.timeOrigin + performance.now();

type Result = { latencies: number[]; received: number; duplicates: number; lastSeq: number; errors: number };
const result: Result = { latencies: [], received: 0, duplicates: 0, lastSeq: 0, errors: 0 };
let connected = 0;
let finished = 0;
const seqsPerViewer: Set<number>[] = [];

function viewer(index: number) {
  const seen = new Set<number>();
  seqsPerViewer[index] = seen;
  const req = request(url!, { agent, headers: { accept: "text/event-stream" } }, (res) => {
    res.setEncoding("utf8");
    let buffer = "";
    let counted = false;
    res.on("data", (chunk: string) => {
      if (!counted) {
        counted = true;
        connected += 1;
        if (connected === count) process.stderr.write("connected\n");
      }
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (!data) continue;
        const message = JSON.parse(data) as { seq: number; type: string; text?: string };
        if (seen.has(message.seq)) result.duplicates += 1;
        seen.add(message.seq);
        result.received += 1;
        result.lastSeq = Math.max(result.lastSeq, message.seq);
        if (message.type === "delta" && message.text) result.latencies.push(now() - Number(message.text));
      }
    });
    res.on("end", () => done());
  });
  req.on("error", () => {
    result.errors += 1;
    done();
  });
  req.end();
}

function done() {
  finished += 1;
  if (finished === count) {
    // Exit only once the (piped, asynchronous) stdout has taken the whole line.
    process.stdout.write(JSON.stringify({ ...result, seqs: seqsPerViewer.map((s) => s.size) }) + "\n", () => process.exit(0));
  }
}

for (let i = 0; i < count; i++) viewer(i);
