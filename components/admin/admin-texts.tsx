"use client";

import { createContext, useContext } from "react";
import type { Lang } from "@/lib/i18n/lang";

// The admin page's language and its schema field messages, for every form under the admin layout
// (each page passes its own section's texts as props).

type AdminTexts = { lang: Lang; formErrors: Readonly<Record<string, string>> };

const Texts = createContext<AdminTexts | null>(null);

export function AdminTextsProvider({ children, ...texts }: AdminTexts & { children: React.ReactNode }) {
  return <Texts.Provider value={texts}>{children}</Texts.Provider>;
}

export function useAdminTexts(): AdminTexts {
  const texts = useContext(Texts);
  if (!texts) throw new Error("admin forms render under the admin layout");
  return texts;
}
