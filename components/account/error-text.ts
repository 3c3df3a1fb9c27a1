import type { ApiError } from "@/components/admin/api";
import type { Catalogue } from "@/lib/i18n";
import { knownErrorText } from "@/lib/i18n/lang";

export type AccountMessages = Pick<Catalogue, "account" | "errors">;

/**
 * A refused account request in the page's language: a catalogue message the server named, the
 * rule a rejected field breaks, a server out of reach; the server's own text for anything else.
 */
export function accountErrorText(error: ApiError & { key?: string; values?: Record<string, string | number> }, m: AccountMessages): string {
  const known = knownErrorText(error, m.errors);
  if (known !== undefined) return known;
  if (error.code === "network") return m.account.networkDown;
  if (error.code === "bad_request:input" && error.field === "email") return m.account.invalidEmail;
  if (error.code === "bad_request:input" && (error.field === "password" || error.field === "newPassword")) return m.account.passwordLength;
  return error.message;
}
