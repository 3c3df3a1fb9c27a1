import { Fragment, type ReactNode } from "react";

/** A catalogue message with elements in its `{name}` placeholders (a count in its own span, a link). */
export function Said({ text, parts }: { text: string; parts: Record<string, ReactNode> }) {
  return text.split(/\{(\w+)\}/).map((piece, i) => <Fragment key={i}>{i % 2 && Object.hasOwn(parts, piece) ? parts[piece] : i % 2 ? `{${piece}}` : piece}</Fragment>);
}
