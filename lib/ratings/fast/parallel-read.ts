/**
 * Fast path: a large JSONL vote file read on two threads, cut at line breaks. Halves the
 * "parse s" column of bench/ratings-bench.ts on two cores (bench/results/ratings-*.json; files
 * under PARALLEL_MIN_BYTES stay on one thread); the same table, ids and first error as one
 * thread in test/unit/ratings/parallel-read.test.ts.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { VoteFileError } from "../vote-format";
import { startsWithArray, type ByteRange } from "./json-records";
import { readVoteFile, readVoteFilePart, type VoteFileFormat } from "./vote-file";
import type { VoteRowOptions } from "../vote-format";
import { STYLE_COUNTS } from "../style-counts";
import { splitWork, startWorker, threadCount, type ThreadOptions } from "./threads";
import { VoteTableBuilder } from "../vote-table";
import type { VoteTable } from "../types";

/** Below this size a worker's start-up costs more than the parse it takes over. */
export const PARALLEL_MIN_BYTES = 8 << 20;

export interface ParallelReadOptions extends ThreadOptions {
  minBytes?: number;
}

const TAG = "leitai-vote-file-part";

interface PartRequest {
  tag: typeof TAG;
  path: string;
  format: VoteFileFormat;
  options: VoteRowOptions;
  range: ByteRange;
}

type PartReply =
  | {
      ok: true;
      models: string[];
      categories: string[];
      length: number;
      endLine: number;
      modelA: ArrayBuffer;
      modelB: ArrayBuffer;
      outcome: ArrayBuffer;
      category: ArrayBuffer;
      time: ArrayBuffer | null;
      style: ArrayBuffer | null;
    }
  | { ok: false; message: string; line?: number; detail?: string; field?: string; code?: string };

/**
 * readVoteFile with a large JSONL file cut at line breaks into one part per thread: the
 * calling thread reads the first part while workers read the others, then the parts are
 * joined in file order (so online Elo sees the same vote order) with the same ids, and
 * the same first error, as a single-threaded read.
 */
export async function readVoteFileParallel(path: string, format: VoteFileFormat, options: VoteRowOptions, parallel: ParallelReadOptions): Promise<VoteTable> {
  const size = statSync(path).size;
  const threads = threadCount(parallel);
  if (threads < 2 || size < (parallel.minBytes ?? PARALLEL_MIN_BYTES) || startsWithArray(path)) return readVoteFile(path, format, options);
  const ranges = splitAtLines(path, size, threads);
  const replies = ranges.slice(1).map((range) => startWorker<PartReply>(parallel.workerScript, { tag: TAG, path, format, options, range }, failure));
  const stop = () => replies.forEach((reply) => void reply.worker.terminate());
  let first;
  try {
    first = readVoteFilePart(path, format, options, ranges[0]);
  } catch (error) {
    stop();
    throw error;
  }
  const parts = [first.table];
  let linesBefore = first.endLine - 1;
  for (const { reply } of replies) {
    const part = await reply;
    if (!part.ok) {
      stop();
      throw partError(part, linesBefore);
    }
    parts.push(partTable(part));
    linesBefore += part.endLine - 1;
  }
  return mergeVoteTables(parts);
}

/** In a worker: reads the part asked for and returns true; false on any other thread or task. */
export function serveVoteFileWorker(): boolean {
  const request = workerData as Partial<PartRequest> | null;
  if (isMainThread || request?.tag !== TAG || !parentPort) return false;
  const { path, format, options, range } = request as PartRequest;
  let reply: PartReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const { table, endLine } = readVoteFilePart(path, format, options, range);
    const buffers = [table.modelA, table.modelB, table.outcome, table.category].map((column) => column.buffer as ArrayBuffer);
    const [modelA, modelB, outcome, category] = buffers as [ArrayBuffer, ArrayBuffer, ArrayBuffer, ArrayBuffer];
    const time = table.time ? (table.time.buffer as ArrayBuffer) : null;
    const style = table.style ? (table.style.buffer as ArrayBuffer) : null;
    reply = { ok: true, models: table.models, categories: table.categories, length: table.length, endLine, modelA, modelB, outcome, category, time, style };
    transfer = [...buffers, ...(time ? [time] : []), ...(style ? [style] : [])]; // moved, not copied
  } catch (error) {
    reply = failure(error);
  }
  parentPort.postMessage(reply, transfer);
  return true;
}

/**
 * Joins tables in order, mapping each part's ids onto ids by first appearance over all parts;
 * times only when every part has them.
 */
export function mergeVoteTables(parts: readonly VoteTable[]): VoteTable {
  const names = new VoteTableBuilder();
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  const modelA = new Int32Array(length);
  const modelB = new Int32Array(length);
  const outcome = new Uint8Array(length);
  const category = new Int32Array(length);
  const time = parts.every((part) => part.time) ? new Float64Array(length) : null;
  const style = parts.every((part) => part.style) ? new Float64Array(length * STYLE_COUNTS) : null;
  let at = 0;
  for (const part of parts) {
    time?.set(part.time!, at);
    style?.set(part.style!, at * STYLE_COUNTS);
    const models = Int32Array.from(part.models, (name) => names.modelId(name));
    const categories = Int32Array.from(part.categories, (name) => names.categoryId(name));
    outcome.set(part.outcome, at);
    if (isIdentity(models) && isIdentity(categories)) {
      // The first part always: its ids are already the merged ones.
      modelA.set(part.modelA, at);
      modelB.set(part.modelB, at);
      category.set(part.category, at);
      at += part.length;
      continue;
    }
    for (let v = 0; v < part.length; v++, at++) {
      modelA[at] = models[part.modelA[v]!]!;
      modelB[at] = models[part.modelB[v]!]!;
      const c = part.category[v]!;
      category[at] = c < 0 ? -1 : categories[c]!;
    }
  }
  const table: VoteTable = { models: names.models, categories: names.categories, modelA, modelB, outcome, category, length };
  if (time) table.time = time;
  if (style) table.style = style;
  return table;
}

function isIdentity(ids: Int32Array): boolean {
  return ids.every((id, i) => id === i);
}

/** `parts` ranges covering the file (sized by splitWork), each after the first starting just past a newline. */
function splitAtLines(path: string, size: number, parts: number): ByteRange[] {
  const fd = openSync(path, "r");
  try {
    const cuts = [0];
    const targets = splitWork(size, parts);
    const probe = Buffer.allocUnsafe(1 << 16);
    for (let k = 1; k < parts; k++) {
      let pos = Math.max(cuts[cuts.length - 1]!, targets[k]!);
      let cut = size;
      while (pos < size) {
        const n = readSync(fd, probe, 0, probe.length, pos);
        const nl = probe.subarray(0, n).indexOf(0x0a);
        if (nl >= 0) {
          cut = pos + nl + 1;
          break;
        }
        pos += n;
      }
      if (cut > cuts[cuts.length - 1]! && cut < size) cuts.push(cut);
    }
    cuts.push(size);
    return cuts.slice(1).map((end, k) => ({ start: cuts[k]!, end }));
  } finally {
    closeSync(fd);
  }
}

function partTable(part: Extract<PartReply, { ok: true }>): VoteTable {
  const n = part.length;
  const table: VoteTable = {
    models: part.models,
    categories: part.categories,
    modelA: new Int32Array(part.modelA, 0, n),
    modelB: new Int32Array(part.modelB, 0, n),
    outcome: new Uint8Array(part.outcome, 0, n),
    category: new Int32Array(part.category, 0, n),
    length: n,
  };
  if (part.time) table.time = new Float64Array(part.time, 0, n);
  if (part.style) table.style = new Float64Array(part.style, 0, n * STYLE_COUNTS);
  return table;
}

function failure(error: unknown): PartReply {
  if (error instanceof VoteFileError) return { ok: false, message: error.message, line: error.line, detail: error.detail, field: error.field };
  const e = error as NodeJS.ErrnoException;
  return { ok: false, message: e?.message ?? String(error), code: e?.code };
}

/** A worker's failure as the error a single-threaded read would throw: file line numbers, same class. */
function partError(part: Extract<PartReply, { ok: false }>, linesBefore: number): Error {
  if (part.line !== undefined && part.detail !== undefined) return new VoteFileError(part.line + linesBefore, part.detail, part.field);
  return Object.assign(new Error(part.message), part.code === undefined ? {} : { code: part.code });
}
