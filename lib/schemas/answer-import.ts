import { z } from "zod";

// The answer import's settings beside its file, as the admin form checks them (client-safe; the
// API reads the same from its query). Messages are keys of the formErrors catalogue.

export const ANSWER_SOURCE_MAX_CHARS = 4000;

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

export const answerImportFormSchema = z.object({
  /** Where the answers came from, a JSON object ({ engine, quantisation, temperature, … }); empty: none said. */
  source: z.string().trim().max(ANSWER_SOURCE_MAX_CHARS, "tooLong").refine((text) => text === "" || isJsonObject(text), "sourceJson"),
  createQuestions: z.boolean(),
});
