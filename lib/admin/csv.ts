// A small RFC 4180 CSV reader and writer: quoted fields, "" escapes, commas and line breaks
// inside quotes, CRLF or LF record ends, a leading BOM. Records remember the line they
// start on so import errors can point at it; a problem is named by its key in the
// adminImportIssues catalogue section, which the import report says it with.

export type CsvRecord = { line: number; fields: string[]; chars: number };
export type CsvProblem = { line: number; key: "csvUnclosedQuote" | "csvTextAfterQuote" | "csvQuoteInField" };

export function parseCsv(input: string): { records: CsvRecord[]; problems: CsvProblem[] } {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const records: CsvRecord[] = [];
  const problems: CsvProblem[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const startLine = line;
    const startIndex = i;
    const fields: string[] = [];
    let broken = false;
    // One record.
    for (;;) {
      let value = "";
      if (text[i] === '"') {
        i++;
        let closed = false;
        while (i < n) {
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') { value += '"'; i += 2; continue; }
            i++;
            closed = true;
            break;
          }
          if (c === "\n") line++;
          value += c;
          i++;
        }
        if (!closed) { problems.push({ line: startLine, key: "csvUnclosedQuote" }); broken = true; i = n; }
        else if (i < n && text[i] !== "," && text[i] !== "\n" && text[i] !== "\r") {
          problems.push({ line, key: "csvTextAfterQuote" });
          broken = true;
          while (i < n && text[i] !== "\n") i++;
        }
      } else {
        const start = i;
        while (i < n && text[i] !== "," && text[i] !== "\n" && text[i] !== "\r") i++;
        value = text.slice(start, i);
        if (value.includes('"') && !broken) { problems.push({ line, key: "csvQuoteInField" }); broken = true; }
      }
      fields.push(value);
      if (i < n && text[i] === ",") { i++; continue; }
      break;
    }
    const chars = i - startIndex;
    if (text[i] === "\r") i++;
    if (text[i] === "\n") { i++; line++; }
    // Blank lines are skipped (a trailing newline is not an empty record).
    if (!broken && !(fields.length === 1 && fields[0] === "")) records.push({ line: startLine, fields, chars });
  }
  return { records, problems };
}

function quote(value: string): string {
  return /[",\r\n]/.test(value) || /^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function toCsvRow(values: string[]): string {
  return values.map(quote).join(",") + "\r\n";
}
