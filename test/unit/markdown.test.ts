import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { Markdown } from "@/components/markdown";

const html = (text: string) => renderToStaticMarkup(createElement(Markdown, { text }));

describe("Markdown of model output", () => {
  it("shows HTML as the text it is, inline and in blocks, and makes no element of it", () => {
    const out = html("Use the <br> tag.\n\n`std::vector<int> v;` and std::vector<int> w; are vectors; a<b and b>c.\n\n<div onclick=\"x()\">block</div>\n\n> <img src=x onerror=alert(1)>");
    expect(out).toContain("Use the &lt;br&gt; tag.");
    expect(out).toContain("std::vector&lt;int&gt; w;");
    expect(out).toContain("a&lt;b and b&gt;c.");
    expect(out).toContain("<p>&lt;div onclick=&quot;x()&quot;&gt;block&lt;/div&gt;</p>");
    expect(out).toContain("<blockquote>\n<p>&lt;img src=x onerror=alert(1)&gt;</p>");
    expect(out.replace(/^<div class="markdown">|<\/div>$/g, "")).not.toMatch(/<(br|div|img)\b/);
  });

  it("still renders markdown, and sanitises links", () => {
    const out = html("**bold** [click](javascript:alert(1)) [ok](https://example.org)");
    expect(out).toContain("<strong>bold</strong>");
    expect(out).not.toContain("javascript:");
    expect(out).toContain('href="https://example.org"');
  });
});
