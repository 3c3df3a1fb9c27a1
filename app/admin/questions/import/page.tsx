import { QuestionImport } from "@/components/admin/question-import";
import { IMPORT_LIMITS, importIssueTexts } from "@/lib/admin/questions-import";
import { requireAdminPage } from "@/lib/auth/session";
import { fill, htmlLang, messages } from "@/lib/i18n";
import { currentLang, titleFrom } from "@/lib/lang-server";

export const dynamic = "force-dynamic";
export const generateMetadata = titleFrom("adminQuestionImport.title");

export default async function ImportQuestionsPage() {
  await requireAdminPage("/admin/questions/import");
  const lang = await currentLang();
  const all = messages(lang);
  const said = all.adminQuestionImport;
  return (
    <div>
      <h1>{said.title}</h1>
      <p className="muted">{said.intro}</p>
      <p className="muted small">
        {fill(said.rules, { mb: IMPORT_LIMITS.maxBytes / 1024 / 1024, rows: IMPORT_LIMITS.maxRows.toLocaleString(htmlLang(lang)) })}
      </p>
      <QuestionImport said={said} issues={importIssueTexts(all)} maxMb={IMPORT_LIMITS.maxBytes / 1024 / 1024} />
    </div>
  );
}
