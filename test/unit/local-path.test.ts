import { describe, expect, it } from "vitest";
import { localPath } from "@/lib/local-path";

describe("localPath", () => {
  it("keeps a path on this site, with its query and fragment", () => {
    expect(localPath("/admin")).toBe("/admin");
    expect(localPath("/admin/queues?tab=failed#top")).toBe("/admin/queues?tab=failed#top");
    expect(localPath("/battle/../admin")).toBe("/admin");
  });

  it("refuses what a browser reads as another host", () => {
    for (const raw of ["//example.com", "/\\example.com", "/\\/example.com", "/\t/example.com", "/\n/example.com", "\\\\example.com",
      // Dot segments that resolve to "//host".
      "/.//example.com", "/..//example.com", "/a/..//example.com", "/%2e//example.com", "/./\\example.com", "/x/../\\/example.com"]) {
      expect(localPath(raw), JSON.stringify(raw)).toBeNull();
    }
  });

  it("refuses absolute URLs, other schemes and nothing", () => {
    for (const raw of ["https://example.com/admin", "javascript:alert(1)", "admin", "", undefined, null]) {
      expect(localPath(raw), String(raw)).toBeNull();
    }
  });
});
