import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { Markdown } from "@/components/markdown";

const html = (text: string) => renderToStaticMarkup(createElement(Markdown, { text }));
/** What a reader sees: the markup's text, highlighting spans and entities undone. */
const textOf = (markup: string) => markup.replace(/<[^>]+>/g, "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&amp;/g, "&");

describe("Markdown of model output", () => {
  it("shows HTML as the text it is, inline and in blocks, and makes no element of it", () => {
    const out = html("Use the <br> tag.\n\n`std::vector<int> v;` and std::vector<int> w; are vectors; a<b and b>c.\n\n<div onclick=\"x()\">block</div>\n\n> <img src=x onerror=alert(1)>");
    expect(out).toContain("Use the &lt;br&gt; tag.");
    expect(out).toContain("std::vector&lt;int&gt; w;");
    expect(out).toContain("a&lt;b and b&gt;c.");
    expect(textOf(out)).toContain('<div onclick="x()">block</div>');
    expect(out).toMatch(/<pre><code class="[^"]*language-html[^"]*">/);
    expect(out).toMatch(/<blockquote>\n<pre><code[^>]*>.*img.*onerror.*<\/code><\/pre>/s);
    expect(out.replace(/^<div class="markdown">|<\/div>$/g, "")).not.toMatch(/<(br|div|img)\b/);
  });

  it("keeps a block of HTML's lines as written", () => {
    expect(textOf(html("<pre>\nline 1\n\nline 2\n</pre>"))).toContain("<pre>\nline 1\n\nline 2\n</pre>");
  });

  it("still renders markdown, and sanitises links", () => {
    const out = html("**bold** [click](javascript:alert(1)) [ok](https://example.org)");
    expect(out).toContain("<strong>bold</strong>");
    expect(out).not.toContain("javascript:");
    expect(out).toContain('href="https://example.org"');
  });
});
