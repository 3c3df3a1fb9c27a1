import { AppError } from "../errors";

/** Reads a request body up to `maxBytes`, refusing larger uploads without buffering them whole. */
export async function readUpload(request: Request, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () => new AppError("bad_request:upload_too_large", { key: "uploadTooLarge", values: { mb: Math.round(maxBytes / 1024 / 1024) } }, { field: "file" });
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw tooLarge();
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) { out.set(c, offset); offset += c.byteLength; }
  return out;
}
