import type { SameKeys } from "./shape";
import type { zhPages } from "./zh-pages";

// The admin area's pages, in English: the same keys and placeholders as zh-pages.ts.

export const enPages: SameKeys<typeof zhPages> = {
  sections: {},
  errors: {},
  formErrors: {},
};
