import { AdminNav } from "@/components/admin/admin-nav";
import { AdminTextsProvider } from "@/components/admin/admin-texts";
import "@/components/admin/admin.css";
import { messages } from "@/lib/i18n";
import { currentLang } from "@/lib/lang-server";

// Only links here: every page checks the admin role itself (requireAdminPage). The forms below
// word their field messages in the page's language.
export default async function AdminLayout({ children }: { children: React.ReactNode }) {
  const lang = await currentLang();
  return (
    <div>
      <AdminNav said={messages(lang).adminNav} />
      <AdminTextsProvider lang={lang} formErrors={messages(lang).formErrors}>{children}</AdminTextsProvider>
    </div>
  );
}
