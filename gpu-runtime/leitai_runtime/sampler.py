"""Token sampling with HF semantics, one sequence at a time.

Each seeded request owns a torch.Generator, and a sequence's draw depends only on its own
logits and generator, so the same seed gives the same output whatever else is in the batch.
"""

from __future__ import annotations

import torch

from .sequence import SamplingParams, Sequence


def apply_repetition_penalty(logits: torch.Tensor, token_ids: list[int], penalty: float) -> torch.Tensor:
    """HF RepetitionPenaltyLogitsProcessor: divide positive, multiply negative logits of seen tokens."""
    if penalty == 1.0 or not token_ids:
        return logits
    ids = torch.tensor(sorted(set(token_ids)), dtype=torch.long, device=logits.device)
    seen = logits.gather(0, ids)
    logits = logits.clone()
    logits.scatter_(0, ids, torch.where(seen < 0, seen * penalty, seen / penalty))
    return logits


def apply_top_k_top_p(logits: torch.Tensor, top_k: int, top_p: float) -> torch.Tensor:
    """HF TopKLogitsWarper then TopPLogitsWarper (keeps at least one token)."""
    if top_k > 0 and top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=False)
        cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
        remove_sorted = cumulative <= (1 - top_p)
        remove_sorted[-1] = False
        remove = remove_sorted.scatter(0, order, remove_sorted)
        logits = logits.masked_fill(remove, float("-inf"))
    return logits


def warp(logits: torch.Tensor, params: SamplingParams, context: list[int]) -> torch.Tensor:
    """The logits a token is drawn from: the repetition penalty over `context`, then, unless greedy
    (an argmax of these), temperature, top-k and top-p (a draw from their softmax)."""
    logits = apply_repetition_penalty(logits.float(), context, params.repetition_penalty)
    if params.greedy:
        return logits
    return apply_top_k_top_p(logits / params.temperature, params.top_k, params.top_p)


class Sampler:
    def __init__(self) -> None:
        self._generators: dict[int, torch.Generator] = {}

    def generator(self, seq: Sequence, device: torch.device) -> torch.Generator | None:
        """The request's own generator when it has a seed (made on first use), else None."""
        if seq.params.seed is None:
            return None
        gen = self._generators.get(seq.seq_id)
        if gen is None:
            gen = torch.Generator(device=device)
            gen.manual_seed(seq.params.seed)
            self._generators[seq.seq_id] = gen
        return gen

    def release(self, seq_id: int) -> None:
        self._generators.pop(seq_id, None)

    def sample_one(self, logits: torch.Tensor, seq: Sequence) -> int:
        logits = warp(logits, seq.params, seq.token_ids)
        if seq.params.greedy:
            return int(torch.argmax(logits).item())
        probs = torch.softmax(logits, dim=-1)
        return int(torch.multinomial(probs, 1, generator=self.generator(seq, logits.device)).item())

    def __call__(self, logits: torch.Tensor, seqs: list[Sequence]) -> list[int]:
        """logits [num_seqs, vocab] -> one token id per sequence."""
        if all(s.params.greedy and s.params.repetition_penalty == 1.0 for s in seqs):
            return [int(t) for t in torch.argmax(logits, dim=-1).tolist()]
        return [self.sample_one(logits[i], seq) for i, seq in enumerate(seqs)]
