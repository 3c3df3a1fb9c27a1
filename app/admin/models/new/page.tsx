import { ModelForm } from "@/components/admin/model-form";
import { requireAdminPage } from "@/lib/auth/session";

export const dynamic = "force-dynamic";

export default async function NewModelPage() {
  await requireAdminPage("/admin/models/new");
  return (
    <div>
      <h1>添加模型 Add a model</h1>
      <ModelForm />
    </div>
  );
}
