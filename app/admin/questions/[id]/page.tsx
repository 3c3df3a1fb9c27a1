import { notFound } from "next/navigation";
import { QuestionForm } from "@/components/admin/question-form";
import { listCategories } from "@/lib/admin/categories";
import { findQuestion } from "@/lib/admin/questions";
import { requireAdminPage } from "@/lib/auth/session";

export const dynamic = "force-dynamic";

export default async function EditQuestionPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  await requireAdminPage(`/admin/questions/${id}`);
  const [question, categories] = await Promise.all([findQuestion({ id }), listCategories()]);
  if (!question) notFound();
  return (
    <div>
      <h1>编辑问题 Edit question</h1>
      <p className="muted small">{question._count.battles} battles · created {question.createdAt.toISOString().slice(0, 10)}</p>
      <QuestionForm categories={categories} initial={question} />
    </div>
  );
}
