import { describe, expect, it } from "vitest";
import { parseCsv, toCsvRow } from "@/lib/admin/csv";

describe("parseCsv", () => {
  it("reads quoted fields with commas, quotes and line breaks, and strips a BOM", () => {
    const text = '\uFEFFtext,category\r\n"a, b","x"\n"say ""hi""\nsecond line",y\nplain,z\n';
    const { records, problems } = parseCsv(text);
    expect(problems).toEqual([]);
    expect(records.map((r) => r.fields)).toEqual([
      ["text", "category"],
      ["a, b", "x"],
      ['say "hi"\nsecond line', "y"],
      ["plain", "z"],
    ]);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 5]);
  });

  it("keeps empty fields and skips blank lines", () => {
    const { records } = parseCsv("a,,c\n\n,,\n");
    expect(records.map((r) => r.fields)).toEqual([["a", "", "c"], ["", "", ""]]);
  });

  it("reports an unclosed quote and stray quotes with their line", () => {
    expect(parseCsv('a,b\n"open,c\nd,e').problems).toEqual([{ line: 2, key: "csvUnclosedQuote" }]);
    expect(parseCsv('a,b\nx"y,c').problems).toEqual([{ line: 2, key: "csvQuoteInField" }]);
    expect(parseCsv('a,b\n"x"y,c').problems).toEqual([{ line: 2, key: "csvTextAfterQuote" }]);
  });

  it("round-trips what toCsvRow writes", () => {
    const rows = [["id", "text"], ["1", 'he said "no", then\nleft'], ["2", " padded "]];
    const { records } = parseCsv(rows.map(toCsvRow).join(""));
    expect(records.map((r) => r.fields)).toEqual(rows);
  });
});
