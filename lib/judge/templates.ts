/**
 * Judge prompt templates for AI-judge runs (issue #26 point 4): pure functions from a
 * question and two answers to the chat messages sent to the judge model.
 *
 *   pairwise  verdict A / B / tie, reason first, final line [[A]], [[B]] or [[C]] (tie)
 *   score10   a 0–10 integer score for each answer, final line [[a, b]] (A's score, B's score)
 *   custom    an admin template with {question}, {answer_a}, {answer_b}, {turns} placeholders
 *
 * The output formats are what lib/judge/verdict.ts parses.
 */

export type JudgeLang = "zh" | "en";
export type JudgeKind = "pairwise" | "score10";

export interface JudgeInput {
  /** The user turns; a single-turn question may be a plain string. */
  question: string | readonly string[];
  /** Assistant A's answers, one per user turn. */
  answerA: readonly string[];
  /** Assistant B's answers, one per user turn. */
  answerB: readonly string[];
  lang: JudgeLang;
}

export interface JudgeMessage {
  role: "system" | "user";
  content: string;
}

export type JudgeTemplate = (input: JudgeInput) => JudgeMessage[];

export class JudgeTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JudgeTemplateError";
  }
}

/** The user turns as a list, checked against both answer lists. */
export function turnsOf(input: JudgeInput): string[] {
  const turns = typeof input.question === "string" ? [input.question] : [...input.question];
  if (turns.length === 0) throw new JudgeTemplateError("the question has no turns");
  if (input.answerA.length !== turns.length || input.answerB.length !== turns.length) {
    throw new JudgeTemplateError(
      `turn count mismatch: ${turns.length} question turns, ${input.answerA.length} answers from A, ${input.answerB.length} from B`,
    );
  }
  return turns;
}

const TEXT = {
  en: {
    pairwiseSystem:
      "You are an impartial judge comparing two AI assistants' answers to the same user question. " +
      "Judge which answer serves the user better: helpfulness, accuracy, relevance, depth and clarity; " +
      "for a multi-turn conversation judge every turn, especially how each assistant follows up. " +
      "The order in which the answers appear, their length and any names must not influence you. " +
      "First explain your comparison briefly, then give your verdict on the last line, exactly one of: " +
      "[[A]] if A is better, [[B]] if B is better, [[C]] for a tie.",
    score10System:
      "You are an impartial judge scoring two AI assistants' answers to the same user question. " +
      "Give each answer an integer score from 0 to 10 for helpfulness, accuracy, relevance and depth " +
      "(for a multi-turn conversation, over all turns). Score each on its own merits: the order in which " +
      "the answers appear, their length and any names must not influence you. " +
      "First justify each score in a sentence or two, then give the two scores on the last line in exactly " +
      "this form: [[score of A, score of B]], for example [[7, 9]].",
    question: "User question",
    turn: (n: number) => `User turn ${n}`,
    answer: (side: string) => `Assistant ${side}'s answer`,
    turnAnswer: (side: string, n: number) => `Assistant ${side}, turn ${n}`,
    conversation: (side: string) => `Conversation with assistant ${side}`,
    begin: "begin",
    end: "end",
    pairwiseFormat: "Reply with your reasoning, then a last line that is exactly [[A]], [[B]] or [[C]] (tie).",
    score10Format: "Reply with a short justification, then a last line that is exactly [[score of A, score of B]] with integers 0–10, e.g. [[7, 9]].",
  },
  zh: {
    pairwiseSystem:
      "你是一名公正的评审，负责比较两个 AI 助手对同一用户问题的回答。" +
      "请判断哪个回答对用户更有帮助：考虑有用性、准确性、相关性、深度和清晰度；" +
      "多轮对话须评价每一轮，尤其是追问时的表现。" +
      "回答出现的先后顺序、回答长度以及任何名字都不得影响你的判断。" +
      "先简要说明比较理由，最后一行只给出裁决，三选一：A 更好写 [[A]]，B 更好写 [[B]]，平局写 [[C]]。",
    score10System:
      "你是一名公正的评审，负责为两个 AI 助手对同一用户问题的回答打分。" +
      "请从有用性、准确性、相关性和深度出发，给每个回答一个 0 到 10 的整数分（多轮对话按全部轮次评价）。" +
      "各自独立评分：回答出现的先后顺序、回答长度以及任何名字都不得影响你的判断。" +
      "先用一两句话分别说明打分理由，最后一行严格按此格式给出两个分数：[[A 的分数, B 的分数]]，例如 [[7, 9]]。",
    question: "用户问题",
    turn: (n: number) => `用户第 ${n} 轮`,
    answer: (side: string) => `助手 ${side} 的回答`,
    turnAnswer: (side: string, n: number) => `助手 ${side} 第 ${n} 轮`,
    conversation: (side: string) => `与助手 ${side} 的对话`,
    begin: "开始",
    end: "结束",
    pairwiseFormat: "先写理由，最后一行只写 [[A]]、[[B]] 或 [[C]]（平局）。",
    score10Format: "先写简短理由，最后一行只写 [[A 的分数, B 的分数]]，分数为 0–10 的整数，例如 [[7, 9]]。",
  },
} as const;

type Text = (typeof TEXT)[JudgeLang];

/** A block with begin/end marks, so the judge can tell where quoted text stops. */
function block(label: string, body: string, t: Text): string {
  return `[${label} — ${t.begin}]\n${body}\n[${label} — ${t.end}]`;
}

/**
 * Single turn: the question, then each answer. Multi-turn: each assistant's whole
 * conversation in turn, as MT-Bench does, so each answer is read in its own context.
 */
function transcript(input: JudgeInput, t: Text): string {
  const turns = turnsOf(input);
  if (turns.length === 1) {
    return [
      block(t.question, turns[0]!, t),
      block(t.answer("A"), input.answerA[0]!, t),
      block(t.answer("B"), input.answerB[0]!, t),
    ].join("\n\n");
  }
  const side = (name: string, answers: readonly string[]) =>
    block(
      t.conversation(name),
      turns.map((q, i) => `### ${t.turn(i + 1)}\n${q}\n\n### ${t.turnAnswer(name, i + 1)}\n${answers[i]!}`).join("\n\n"),
      t,
    );
  return [side("A", input.answerA), side("B", input.answerB)].join("\n\n");
}

export const pairwise: JudgeTemplate = (input) => {
  const t = TEXT[input.lang];
  return [
    { role: "system", content: t.pairwiseSystem },
    { role: "user", content: `${transcript(input, t)}\n\n${t.pairwiseFormat}` },
  ];
};

export const score10: JudgeTemplate = (input) => {
  const t = TEXT[input.lang];
  return [
    { role: "system", content: t.score10System },
    { role: "user", content: `${transcript(input, t)}\n\n${t.score10Format}` },
  ];
};

/** The built-in templates by output kind. */
export const BUILTIN_TEMPLATES: Record<JudgeKind, JudgeTemplate> = { pairwise, score10 };

// ---------------------------------------------------------------------------
// Custom (admin-supplied) templates

export const CUSTOM_PLACEHOLDERS = ["question", "answer_a", "answer_b", "turns"] as const;
export type CustomPlaceholder = (typeof CUSTOM_PLACEHOLDERS)[number];
export const REQUIRED_PLACEHOLDERS: readonly CustomPlaceholder[] = ["question", "answer_a", "answer_b"];
export const MAX_CUSTOM_TEMPLATE_CHARS = 20_000;

export interface CustomTemplateSpec {
  /** The user message, with placeholders. `{{` and `}}` stand for literal braces. */
  template: string;
  /** Which format the judge must answer in, i.e. how verdict.ts parses it. */
  kind: JudgeKind;
  /** Optional system message (no placeholders); the built-in one for `kind` when absent. */
  system?: string;
}

/**
 * One token pass over the template: an escaped brace, or `{name}` where name looks like an
 * identifier. Other braces (JSON examples, code) stay literal, so only identifier-shaped
 * names can be typos that we report.
 */
const TOKEN = /\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

function isPlaceholder(name: string): name is CustomPlaceholder {
  return (CUSTOM_PLACEHOLDERS as readonly string[]).includes(name);
}

/** Every problem with a custom template, each naming what is wrong; empty when valid. */
export function validateCustomTemplate(spec: CustomTemplateSpec): string[] {
  const errors: string[] = [];
  if (spec.kind !== "pairwise" && spec.kind !== "score10") errors.push(`unknown output kind: ${String(spec.kind)}`);
  if (spec.template.trim() === "") errors.push("the template is empty");
  if (spec.template.length > MAX_CUSTOM_TEMPLATE_CHARS) {
    errors.push(`the template is longer than ${MAX_CUSTOM_TEMPLATE_CHARS} characters`);
  }
  const { unknown, missing } = templatePlaceholders(spec.template);
  for (const name of unknown) errors.push(`unknown placeholder {${name}}`);
  for (const name of missing) errors.push(`missing placeholder {${name}}`);
  return errors;
}

/** The identifier-shaped placeholders a template names that are not ours, and the required ones it lacks. */
export function templatePlaceholders(template: string): { unknown: string[]; missing: CustomPlaceholder[] } {
  const seen = new Set<string>();
  const unknown = new Set<string>();
  for (const match of template.matchAll(TOKEN)) {
    const name = match[1];
    if (name === undefined) continue;
    if (isPlaceholder(name)) seen.add(name);
    else unknown.add(name);
  }
  return { unknown: [...unknown], missing: REQUIRED_PLACEHOLDERS.filter((name) => !seen.has(name)) };
}

/** Each turn labelled, so a multi-turn {question} or {answer_x} stays readable. */
function numbered(parts: readonly string[], label: (n: number) => string): string {
  return parts.length === 1 ? parts[0]! : parts.map((p, i) => `${label(i + 1)}:\n${p}`).join("\n\n");
}

/**
 * Fills the placeholders in one pass (String.replace with a function): substituted text is
 * never scanned again, so an answer that contains "{answer_b}" or "$&" stays as written.
 */
export function fillCustomTemplate(template: string, input: JudgeInput): string {
  const turns = turnsOf(input);
  const t = TEXT[input.lang];
  const values: Record<CustomPlaceholder, string> = {
    question: numbered(turns, t.turn),
    answer_a: numbered(input.answerA, (n) => t.turnAnswer("A", n)),
    answer_b: numbered(input.answerB, (n) => t.turnAnswer("B", n)),
    turns: String(turns.length),
  };
  return template.replace(TOKEN, (whole: string, name: string | undefined) => {
    if (whole === "{{") return "{";
    if (whole === "}}") return "}";
    if (name !== undefined && isPlaceholder(name)) return values[name];
    throw new JudgeTemplateError(`unknown placeholder {${name ?? whole}}`);
  });
}

/**
 * Checks an admin template and returns it as a JudgeTemplate; throws JudgeTemplateError
 * listing every problem. Unless the template already spells out a [[…]] format, the
 * built-in format line for `kind` is appended, so the parser can always read the answer.
 */
export function customTemplate(spec: CustomTemplateSpec): JudgeTemplate {
  const errors = validateCustomTemplate(spec);
  if (errors.length > 0) throw new JudgeTemplateError(errors.join("; "));
  const ownFormat = spec.template.includes("[[");
  return (input) => {
    const t = TEXT[input.lang];
    const format = spec.kind === "pairwise" ? t.pairwiseFormat : t.score10Format;
    const body = fillCustomTemplate(spec.template, input);
    return [
      { role: "system", content: spec.system ?? (spec.kind === "pairwise" ? t.pairwiseSystem : t.score10System) },
      { role: "user", content: ownFormat ? body : `${body}\n\n${format}` },
    ];
  };
}
