import { ModelForm } from "@/components/admin/model-form";
import { requireAdminPage } from "@/lib/auth/session";
import { messages } from "@/lib/i18n";
import { currentLang, titleFrom } from "@/lib/lang-server";

export const dynamic = "force-dynamic";
export const generateMetadata = titleFrom("adminModels.newTitle");

export default async function NewModelPage() {
  await requireAdminPage("/admin/models/new");
  const said = messages(await currentLang());
  return (
    <div>
      <h1>{said.adminModels.newTitle}</h1>
      <ModelForm said={said.adminModelForm} />
    </div>
  );
}
