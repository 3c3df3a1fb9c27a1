import { notFound } from "next/navigation";
import { QuestionForm } from "@/components/admin/question-form";
import { listCategories } from "@/lib/admin/categories";
import { findQuestion } from "@/lib/admin/questions";
import { requireAdminPage } from "@/lib/auth/session";
import { fill, messages } from "@/lib/i18n";
import { currentLang, titleFrom } from "@/lib/lang-server";

export const dynamic = "force-dynamic";
export const generateMetadata = titleFrom("adminQuestions.editTitle");

export default async function EditQuestionPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  await requireAdminPage(`/admin/questions/${id}`);
  const lang = await currentLang();
  const said = messages(lang).adminQuestions;
  const [question, categories] = await Promise.all([findQuestion({ id }), listCategories()]);
  if (!question) notFound();
  return (
    <div>
      <h1>{said.editTitle}</h1>
      <p className="muted small">{fill(said.editMeta, { battles: question._count.battles, date: question.createdAt.toISOString().slice(0, 10) })}</p>
      <QuestionForm categories={categories} initial={question} lang={lang} said={said} />
    </div>
  );
}
