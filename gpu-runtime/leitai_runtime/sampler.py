"""Token sampling with HF semantics, one sequence at a time.

Each seeded request owns a torch.Generator, and a sequence's draw depends only on its own
logits and generator, so the same seed gives the same output whatever else is in the batch.

Extreme but accepted parameters (a temperature of 1e-40, a repetition penalty of 1e-40) would
overflow float32 logits to inf and the softmax to NaN; they are computed as their limits instead
(see warp). A sequence whose draw still fails is recorded in `failures` and gets FAILED instead of
a token: only that request ends (with an error), not the whole batch.
"""

from __future__ import annotations

import math

import torch

from .sequence import SamplingParams, Sequence

FAILED = -2  # the token a sequence gets when its draw failed (not engine.PLACEHOLDER); see Sampler.failures
_FLOAT32_MAX = torch.finfo(torch.float32).max
# Below this a temperature is its limit: float32 would round it to 0 (or flush a subnormal to 0 on
# a GPU), giving 0/0 for the largest logit; any difference of the logits still scales to -inf.
_MIN_TEMPERATURE = torch.finfo(torch.float32).tiny
# A repetition penalty outside this range may overflow float32 logits (or round to 0 or inf there);
# inside it the plain float32 computation is kept (it is HF's, bit for bit).
_SAFE_PENALTY = (1e-20, 1e20)


class SamplingError(RuntimeError):
    """A sequence's logits leave nothing to draw from (all NaN or -inf)."""


def draw(probs: torch.Tensor, generator: torch.Generator | None) -> int:
    """One token id drawn from `probs` (>= 0: a softmax, or clamped); SamplingError when they hold
    no distribution (NaN, inf, or all zero).

    Such a row must not reach multinomial: its check is an asynchronous assert, which on CUDA is
    a device-side assert that breaks every later request too. So the row draws from a stand-in,
    and whether it was valid comes back with the token, in the one read the token needs anyway.
    """
    total = probs.sum()
    valid = (total > 0) & (total < math.inf)  # NaN fails both
    token = torch.multinomial(torch.where(valid, probs, 1.0), 1, generator=generator)
    value, ok = torch.cat([token, valid.view(1).long()]).tolist()
    if not ok:
        raise SamplingError("the model's logits hold no distribution to sample from (NaN or inf)")
    return int(value)


def apply_repetition_penalty(logits: torch.Tensor, token_ids: list[int], penalty: float) -> torch.Tensor:
    """HF RepetitionPenaltyLogitsProcessor: divide positive, multiply negative logits of seen tokens."""
    if penalty == 1.0 or not token_ids:
        return logits
    ids = torch.tensor(sorted(set(token_ids)), dtype=torch.long, device=logits.device)
    seen = logits.gather(0, ids)
    if _SAFE_PENALTY[0] <= penalty <= _SAFE_PENALTY[1]:
        penalised = torch.where(seen < 0, seen * penalty, seen / penalty)
    else:
        penalised = _extreme_penalty(seen, penalty).to(seen.dtype)
    logits = logits.clone()
    logits.scatter_(0, ids, penalised)
    return logits


def _extreme_penalty(seen: torch.Tensor, penalty: float) -> torch.Tensor:
    """The penalty in float64, kept finite in float32 and in order: when the largest seen logit
    would overflow, all the seen ones on that side are scaled alike to end at float32's max (a
    penalty of 1e-40 on [5, 1] keeps 5 above 1 rather than tying them at the clamp)."""
    wide = seen.double()
    pos, neg = wide.clamp_min(0.0), wide.clamp_max(0.0)
    top, bottom = pos.max(), -neg.min()
    # where() picks per element on the device; the branch not taken may be inf, never chosen.
    up = torch.where(top > _FLOAT32_MAX * penalty, pos * (_FLOAT32_MAX / top), pos / penalty)
    down = torch.where(bottom * penalty > _FLOAT32_MAX, neg * (_FLOAT32_MAX / bottom), neg * penalty)
    return torch.where(wide < 0, down, up).clamp(-_FLOAT32_MAX, _FLOAT32_MAX)


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


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """logits / temperature up to a shift, which the softmax drawn from ignores: less the largest
    first, so nothing overflows to +inf. A temperature too small for float32 gives the limit: the
    largest stay 0 (a draw among ties, else greedy), the rest -inf."""
    return (logits - logits.max()) / max(temperature, _MIN_TEMPERATURE)


def warp(logits: torch.Tensor, params: SamplingParams, context: list[int]) -> torch.Tensor:
    """The logits a token is drawn from: the repetition penalty over `context`, then, unless greedy
    (an argmax of these), temperature, top-k and top-p (a draw from their softmax)."""
    logits = apply_repetition_penalty(logits.float(), context, params.repetition_penalty)
    if params.greedy:
        return logits
    return apply_top_k_top_p(apply_temperature(logits, params.temperature), params.top_k, params.top_p)


class Sampler:
    def __init__(self) -> None:
        self._generators: dict[int, torch.Generator] = {}
        # seq_id -> why its last draw failed; the engine takes it (take_failure) and ends that sequence
        self.failures: dict[int, str] = {}

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
        self.failures.pop(seq_id, None)

    def take_failure(self, seq_id: int) -> str | None:
        """Why the sequence's last draw failed (then its token is FAILED), or None."""
        return self.failures.pop(seq_id, None) if self.failures else None

    def sample_one(self, logits: torch.Tensor, seq: Sequence) -> int:
        logits = warp(logits, seq.params, seq.token_ids)
        if seq.params.greedy:
            return int(torch.argmax(logits).item())
        return draw(torch.softmax(logits, dim=-1), self.generator(seq, logits.device))

    def fail(self, seq: Sequence, err: SamplingError) -> int:
        """Record why the sequence's draw failed (the engine ends it alone) and return FAILED."""
        self.failures[seq.seq_id] = f"sampling failed: {err}"
        return FAILED

    def __call__(self, logits: torch.Tensor, seqs: list[Sequence]) -> list[int]:
        """logits [num_seqs, vocab] -> one token id per sequence (FAILED where its draw failed)."""
        if all(s.params.greedy and s.params.repetition_penalty == 1.0 for s in seqs):
            return [int(t) for t in torch.argmax(logits, dim=-1).tolist()]
        tokens: list[int] = []
        for i, seq in enumerate(seqs):
            try:
                tokens.append(self.sample_one(logits[i], seq))
            except SamplingError as err:  # one request's draw must not fail everyone else's
                tokens.append(self.fail(seq, err))
        return tokens
