"use client";

import type { Nodes, Root } from "mdast";
import ReactMarkdown from "react-markdown";
import rehypeHighlight from "rehype-highlight";
import rehypeSanitize from "rehype-sanitize";
import remarkGfm from "remark-gfm";

/**
 * HTML in model output is shown as the text it is: an answer about `<br>`, `std::vector<int>` or
 * `a<b and b>c` must read the same to a voter as it was written, and none of it is ever parsed.
 */
const BLOCK_PARENTS = new Set(["root", "blockquote", "listItem", "footnoteDefinition"]);

function remarkHtmlAsText() {
  const visit = (node: Nodes) => {
    if (!("children" in node)) return;
    node.children = node.children.map((child) => {
      if (child.type !== "html") {
        visit(child);
        return child;
      }
      // Inline HTML sits in a paragraph (or heading, link…) already; a block of it keeps its lines, as code.
      return BLOCK_PARENTS.has(node.type)
        ? { type: "code" as const, lang: "html", value: child.value, position: child.position }
        : { type: "text" as const, value: child.value, position: child.position };
    }) as typeof node.children;
  };
  return (tree: Root) => visit(tree);
}

// Model output is untrusted. Raw HTML is never parsed (no rehype-raw; it reaches the page as
// text), the tree is sanitised against GitHub's allow-list, and only then highlighted (which adds classes).
export function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown
        remarkPlugins={[remarkGfm, remarkHtmlAsText]}
        rehypePlugins={[rehypeSanitize, [rehypeHighlight, { detect: true, ignoreMissing: true }]]}
      >
        {text}
      </ReactMarkdown>
    </div>
  );
}
