"use client";

import ReactMarkdown from "react-markdown";
import rehypeHighlight from "rehype-highlight";
import rehypeSanitize from "rehype-sanitize";
import remarkGfm from "remark-gfm";

// Model output is untrusted. Raw HTML is never parsed (no rehype-raw), the tree is
// sanitised against GitHub's allow-list, and only then highlighted (which adds classes).
export function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown
        remarkPlugins={[remarkGfm]}
        rehypePlugins={[rehypeSanitize, [rehypeHighlight, { detect: true, ignoreMissing: true }]]}
        skipHtml
      >
        {text}
      </ReactMarkdown>
    </div>
  );
}
