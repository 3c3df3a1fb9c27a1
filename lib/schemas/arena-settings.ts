import { z } from "zod";
import { wholeNumber } from "./fields";

// What voters may do and see, as the admin settings form and the API check it (client-safe;
// lib/arena/arena-settings.ts re-exports it). Messages are keys of the formErrors catalogue.

export const arenaSettingsInput = z.object({
  publishLivePrompts: z.boolean(),
  publishAnswersInRotation: z.boolean(),
  liveBattlesPerVoter: wholeNumber(0, 100_000),
  liveBattlesPerIp: wholeNumber(0, 1_000_000),
  turnsPerVoter: wholeNumber(0, 100_000),
  turnsPerIp: wholeNumber(0, 1_000_000),
  limitWindowS: wholeNumber(1, 7 * 24 * 3600),
  signedInFactor: wholeNumber(1, 100),
  liveInFlightPerModel: wholeNumber(1, 10_000),
  turnMaxChars: wholeNumber(1, 100_000),
  conversationMaxChars: wholeNumber(1, 1_000_000),
  signupOpen: z.boolean(),
});
export type ArenaSettingsInput = z.infer<typeof arenaSettingsInput>;
