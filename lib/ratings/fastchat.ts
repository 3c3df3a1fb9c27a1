import { FASTCHAT_STYLE_KEYS } from "./style-counts";
import { parseVoteObject, type VoteRowFormat, type VoteRowOptions } from "./vote-format";
import { OUTCOME_A, OUTCOME_B, OUTCOME_BOTH_BAD, OUTCOME_TIE, type RatedVote } from "./types";

/**
 * FastChat / Chatbot Arena battle rows (clean_battle_*.json): model_a, model_b and
 * winner ∈ {model_a, model_b, tie, "tie (bothbad)"}, and `tstamp` (seconds), by which
 * FastChat orders battles before its online Elo. Other fields (judge, turn, conversation
 * metadata…) are ignored; `anony` matters only for anonymous-only runs, and the style counts of
 * `conv_metadata` only for style control.
 */
export const FASTCHAT_FORMAT: VoteRowFormat = {
  name: "fastchat",
  modelA: "model_a",
  modelB: "model_b",
  winner: "winner",
  winners: { model_a: OUTCOME_A, model_b: OUTCOME_B, tie: OUTCOME_TIE, "tie (bothbad)": OUTCOME_BOTH_BAD },
  numbers: [],
  anony: "anony",
  time: "tstamp",
  style: { object: "conv_metadata", keys: FASTCHAT_STYLE_KEYS },
};

/** One parsed FastChat row → a rated vote (null when `anonyOnly` skips it); throws VoteFileError. */
export function parseFastChatRow(row: unknown, line = 1, options: VoteRowOptions = {}): RatedVote | null {
  return parseVoteObject(FASTCHAT_FORMAT, row, line, options);
}
