import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { wordsEqual, wordsOf } from "@/lib/ratings/fast/flat-json";
import { LEITAI_FORMAT, parseFastChatRow, parseVoteObject, readVoteFile, Rng, VoteFileError, type VoteFileFormat, type VoteTable } from "@/lib/ratings";

const dir = mkdtempSync(join(tmpdir(), "leitai-votes-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileCount = 0;

function file(text: string): string {
  const path = join(dir, `votes-${fileCount++}.json`);
  writeFileSync(path, text);
  return path;
}

/** The table as readable votes. */
function rows(table: VoteTable): string[] {
  return Array.from({ length: table.length }, (_, v) => {
    const category = table.category[v]! >= 0 ? table.categories[table.category[v]!] : "-";
    return `${table.models[table.modelA[v]!]} ${table.models[table.modelB[v]!]} ${table.outcome[v]} ${category}`;
  });
}

function failure(text: string, format: VoteFileFormat): VoteFileError {
  try {
    readVoteFile(file(text), format);
  } catch (error) {
    if (error instanceof VoteFileError) return error;
    throw error;
  }
  throw new Error("expected a VoteFileError");
}

const fastChatRows = [
  { model_a: "vicuna-13b", model_b: "alpaca-13b", winner: "model_a", judge: "x", anony: true, conversation_a: [{ role: "user", content: "hi" }] },
  { model_a: "alpaca-13b", model_b: "vicuna-13b", winner: "tie (bothbad)", anony: false, tstamp: 1.5 },
  { model_a: "koala-13b", model_b: "vicuna-13b", winner: "model_b", anony: true, dedup_tag: { high_freq: false } },
  { model_a: "koala-13b", model_b: "alpaca-13b", winner: "tie", anony: true },
];

describe("four-byte word comparison of the fast path", () => {
  it("tells equal bytes from every one-byte change, at every length and offset", () => {
    const rng = new Rng(3);
    const buf = new Uint8Array(64);
    const view = new DataView(buf.buffer);
    let wrong = 0;
    for (let n = 0; n <= 13; n++) {
      for (let at = 0; at + n <= 20; at += 3) {
        const bytes = Uint8Array.from({ length: n }, () => Math.floor(rng.nextDouble() * 256));
        const words = wordsOf(bytes);
        buf.fill(0);
        buf.set(bytes, at);
        if (!wordsEqual(buf, view, at, bytes, words)) wrong++;
        for (let i = 0; i < n; i++) {
          buf[at + i] ^= 1 << (i % 8);
          if (wordsEqual(buf, view, at, bytes, words)) wrong++;
          buf[at + i] ^= 1 << (i % 8);
        }
      }
    }
    expect(wrong).toBe(0);
  });
});

describe("FastChat battle files", () => {
  const expected = ["vicuna-13b alpaca-13b 0 -", "alpaca-13b vicuna-13b 3 -", "koala-13b vicuna-13b 1 -", "koala-13b alpaca-13b 2 -"];

  it("reads a JSON array, nested fields and 'tie (bothbad)' included", () => {
    expect(rows(readVoteFile(file(JSON.stringify(fastChatRows, null, 2)), "fastchat"))).toEqual(expected);
  });

  it("reads JSONL, counting non-anonymous rows unless anonymous-only", () => {
    const path = file(fastChatRows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    expect(rows(readVoteFile(path, "fastchat"))).toEqual(expected);
    expect(rows(readVoteFile(path, "fastchat", { anonyOnly: true }))).toEqual([expected[0], expected[2], expected[3]]);
  });

  it("parses one row object", () => {
    expect(parseFastChatRow(fastChatRows[1])).toEqual({ modelA: "alpaca-13b", modelB: "vicuna-13b", winner: "both_bad", category: null });
    expect(parseFastChatRow(fastChatRows[1], 1, { anonyOnly: true })).toBeNull();
  });

  it("names the line and field of a bad row", () => {
    const text = [fastChatRows[0], { ...fastChatRows[2], winner: "model_c" }].map((r) => JSON.stringify(r)).join("\n");
    const error = failure(text, "fastchat");
    expect(error.line).toBe(2);
    expect(error.field).toBe("winner");
    expect(error.message).toMatch(/^line 2: "winner" must be one of "model_a", "model_b", "tie", "tie \(bothbad\)" \(got "model_c"\)$/);
  });

  it("reports the line where a bad element of a JSON array starts", () => {
    const text = `[\n  {"model_a": "a", "model_b": "b", "winner": "model_a"},\n  {"model_a": "a",\n   "winner": "model_a"}\n]`;
    const error = failure(text, "fastchat");
    expect([error.line, error.field]).toEqual([3, "model_b"]);
  });

  it("rejects an unterminated array and content after it", () => {
    expect(failure(`[{"model_a": "a", "model_b": "b", "winner": "tie"}`, "fastchat").message).toMatch(/end of file/);
    expect(failure(`[{"model_a": "a", "model_b": "b", "winner": "tie"}] x`, "fastchat").message).toMatch(/after the top-level array/);
    expect(failure(`[{"model_a": "a", "model_b": "b", "winner": "tie"},]`, "fastchat").message).toMatch(/expected an object/);
  });
});

describe("Leitai vote files", () => {
  it("reads RatedVote lines, skipping blank lines and CRLF endings", () => {
    const text =
      '{"modelA":"a","modelB":"b","winner":"A","category":"coding","at":1}\r\n\n' +
      '{"modelA":"b","modelB":"c","winner":"both_bad","category":null}\n' +
      '  {"winner": "tie", "modelB": "a", "modelA": "c"}  \n';
    expect(rows(readVoteFile(file(text), "leitai"))).toEqual(["a b 0 coding", "b c 3 -", "c a 2 -"]);
  });

  it("reads the same votes whether a row takes the fast path or JSON.parse", () => {
    const fast = '{"modelA":"模型-甲","modelB":"b","winner":"B","category":"写作"}\n';
    const slow = '{"modelA":"\\u6a21\\u578b-\\u7532","modelB":"b","winner":"B","category":"\\u5199\\u4f5c","extra":{"nested":[1]}}\n';
    const table = readVoteFile(file(fast + slow + fast), "leitai");
    expect(rows(table)).toEqual(["模型-甲 b 1 写作", "模型-甲 b 1 写作", "模型-甲 b 1 写作"]);
    expect(table.models).toEqual(["模型-甲", "b"]);
  });

  it.each([
    ['{"modelB":"b","winner":"A"}', "modelA", /missing "modelA"/],
    ['{"modelA":"","modelB":"b","winner":"A"}', "modelA", /"modelA" must be a non-empty string/],
    ['{"modelA":"a","modelB":7,"winner":"A"}', "modelB", /"modelB" must be a non-empty string/],
    ['{"modelA":"a","modelB":"b"}', "winner", /missing "winner"/],
    ['{"modelA":"a","modelB":"b","winner":"C"}', "winner", /"winner" must be one of "A", "B", "tie", "both_bad" \(got "C"\)/],
    ['{"modelA":"a","modelB":"b","winner":"A","category":3}', "category", /"category" must be a string or null/],
    ['{"modelA":"a","modelB":"b","winner":"A","at":"noon"}', "at", /"at" must be a number/],
    ['{"modelA":"a","modelB":"a","winner":"A"}', "modelB", /name the same model/],
    ['{"modelA":"a","modelB":"b","winner":"A"', undefined, /not valid JSON/],
    ['["a","b","A"]', undefined, /expected a JSON object/],
    ['{"modelA":"a","modelB":"b","winner":"A","at":1.}', undefined, /not valid JSON/],
  ])("rejects %s naming line 2 and the field", (bad, field, message) => {
    const error = failure('{"modelA":"a","modelB":"b","winner":"A"}\n' + bad + "\n", "leitai");
    expect(error.line).toBe(2);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it.each(["17000:0000000", "1700/00000000", "170000000000a", "01700000000000", "1700000000000."])(
    "rejects the number %s after rows of the same layout, naming its line",
    (number) => {
      const good = '{"modelA":"a","modelB":"b","winner":"A","at":1700000000000}\n';
      const error = failure(good.repeat(3) + `{"modelA":"a","modelB":"b","winner":"A","at":${number}}\n`, "leitai");
      expect(error.line).toBe(4);
      expect(error.message).toMatch(/not valid JSON/);
    },
  );

  it("does not take a row for the learnt layout when a key differs only in the layout's last bytes", () => {
    // `, "modelB":` and `, "modelC":` differ in the literal's last, partial four-byte word.
    const error = failure('{"modelA":"a", "modelB":"b","winner":"A"}\n{"modelA":"a", "modelC":"b","winner":"A"}\n', "leitai");
    expect(error.line).toBe(2);
    expect(error.message).toMatch(/missing "modelB"/);
  });

  it("reads rows of many layouts exactly as JSON.parse does, by learnt layout, byte scanner or JSON.parse", () => {
    // Layouts that differ only in a value's kind (category null vs a string, "at" a number vs
    // absent), spacing, key order, unwanted and repeated keys, and escaped strings that must
    // leave the byte scanner for JSON.parse.
    const rng = new Rng(7);
    // Lengths below, at and past a four-byte word (the fast path compares words), names that
    // differ only in their last byte, and two with JSON escapes.
    const names = ["a", "b", "abcd", "abce", "abcde", "模型-甲", "model-01", "model-02", "model-001", "model-002", "model-with-a-longer-name", "x\\\"y", "tab\\tname"];
    const winners = ["A", "B", "tie", "both_bad"];
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rng.nextDouble() * xs.length)]!;
    const layouts: ((a: string, b: string, w: string) => string)[] = [
      (a, b, w) => `{"modelA":"${a}","modelB":"${b}","winner":"${w}","at":${Math.floor(rng.nextDouble() * 1e12)}}`,
      (a, b, w) => `{"modelA":"${a}","modelB":"${b}","winner":"${w}","category":"写作","at":-1.5e3}`,
      (a, b, w) => `{"modelA":"${a}","modelB":"${b}","winner":"${w}","category":null}`,
      (a, b, w) => `{"winner": "${w}", "modelB": "${b}", "modelA": "${a}"}`,
      (a, b, w) => `{"modelA":"${a}","judge":"anon","modelB":"${b}","ok":true,"n":null,"winner":"${w}"}`,
      (a, b, w) => `{"modelA":"${a}","modelB":"${b}","winner":"${w}","category":"coding","category":"math"}`,
      (a, b, w) => `{ "modelA" : "${a}" , "modelB" : "${b}" , "winner" : "${w}" }`,
      (a, b, w) => `{"modelA": "${a}","modelB": "${b}","winner": "${w}"}`, // one space more than the first
      (a, b, w) => `{"modelA":"${a}","modelB":"${b}","winner":"${w}","ax":"z"}`,
      (a, b, w) => `{"modelA":"${a}","modelB":"${b}","winner":"${w}","at":${pick(["0", "7", "10", "1234", "12345", "-98765432", "3.25", "1e9", "12345678E-2", "-0"])}}`,
    ];
    const lines: string[] = [];
    // Runs of one layout (a file's rows share one), so rows are read by a learnt layout too.
    while (lines.length < 4000) {
      const layout = pick(layouts);
      for (let run = 1 + Math.floor(rng.nextDouble() * 30); run > 0; run--) {
        const a = pick(names);
        let b = pick(names);
        while (b === a) b = pick(names);
        lines.push(layout(a, b, pick(winners)));
      }
    }
    const table = readVoteFile(file(lines.join("\n") + "\n"), "leitai");
    const expected = lines.map((text, i) => {
      const vote = parseVoteObject(LEITAI_FORMAT, JSON.parse(text), i + 1)!;
      return `${vote.modelA} ${vote.modelB} ${winners.indexOf(vote.winner)} ${vote.category ?? "-"}`;
    });
    expect(rows(table)).toEqual(expected);
  });

  it("streams files larger than one read chunk, counting lines across chunks", () => {
    const line = '{"modelA":"model-with-a-rather-long-name-a","modelB":"model-with-a-rather-long-name-b","winner":"tie"}\n';
    const count = 60_000; // ≈ 6 MB, past the 4 MiB read size
    const table = readVoteFile(file(line.repeat(count)), "leitai");
    expect(table.length).toBe(count);
    const error = failure(line.repeat(count) + '{"modelA":"x"}\n', "leitai");
    expect(error.line).toBe(count + 1);
  });
});
