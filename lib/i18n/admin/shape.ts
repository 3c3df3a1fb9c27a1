// An admin catalogue part: page sections, server refusals (merged into `errors`) and schema field
// messages (merged into `formErrors`). The English part is typed against the Chinese one, so a
// key missing or extra in it fails tsc.

type Texts<T> = { readonly [K in keyof T]: string };

export type AdminPart = { sections: Record<string, Record<string, string>>; errors: Record<string, string>; formErrors: Record<string, string> };

export type SameKeys<T extends AdminPart> = {
  readonly sections: { readonly [S in keyof T["sections"]]: Texts<T["sections"][S]> };
  readonly errors: Texts<T["errors"]>;
  readonly formErrors: Texts<T["formErrors"]>;
};
