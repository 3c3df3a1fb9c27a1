"""Speculative decoding: a draft model proposes up to k tokens per decoding sequence, the target
scores them all in one forward over the paged KV cache (k + 1 query tokens per sequence, the
way a prefill chunk is fed), and a rejection rule keeps what the target alone would produce.

Greedy requests keep proposals while they equal the target's argmax, so their tokens are the
target's. Sampled requests use the standard rule (Leviathan et al. 2023, Chen et al. 2023): keep
draft token x with probability min(1, p(x) / q(x)); at the first rejection draw from
norm(max(0, p - q)); when all are kept, draw a bonus token from p. p and q are what the sampler
draws from (repetition penalty over the tokens before that position, temperature, top-k,
top-p), and every draw uses the request's seeded generator, so the output follows the target's
distribution.

The draft has its own ModelRunner and KV pool, indexed by the sequences' own block tables: one
BlockManager accounts for both caches, so preemption, aborts and prefix-cache reuse cover the
draft's K/V with the target's. The draft follows prefill chunks as they run; decode steps it
joins only when speculating, and first catches up on what it skipped. How far the draft's cache
holds each sequence is the Speculator's own record (`_DraftState`, by sequence id): it starts at
each admission from the tokens the prefix cache gave, and is freed when the sequence ends. A
block enters the prefix cache only once both caches hold it (`cached_tokens`), so a hit serves
both.

Speculation stops paying when the draft is often wrong, or when so many sequences decode that
verifying k + 1 tokens each costs compute rather than riding on the weight reads a step makes
anyway. Then the engine decodes plainly (counted as fallback steps) and probes again later. The
last word is the clock (StepTimer): time per generated token of speculative and of plain steps,
measured at each batch size the engine meets, and the faster kind runs.
"""

from __future__ import annotations

import math
import statistics
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from .block_manager import BlockManager
from .config import ConfigError, ModelConfig, SpeculativeConfig
from .model_runner import ModelRunner
from .sampler import FAILED, Sampler, SamplingError, draw, warp
from .scheduler import ScheduledBatch
from .sequence import Sequence
from .tokenizer import Tokenizer

FALLBACK_REASONS = ("low_acceptance", "large_batch", "slower", "speed_probe")
EMA_WEIGHT = 0.2  # weight of the newest step in the moving average of tokens per step
TIME_SAMPLES = 7  # recent intervals whose median is a kind's time per token
PROBE_BUDGET = 0.02  # share of decode time re-measuring the slower kind may cost


class DraftError(ConfigError):
    """A draft model that cannot serve its target (another vocabulary or tokenizer)."""


@dataclass
class DraftModel:
    """A draft checkpoint for one served model: its vocabulary, far fewer parameters."""

    hf_config: dict[str, Any]
    state_dict: dict[str, torch.Tensor]
    config: SpeculativeConfig = field(default_factory=SpeculativeConfig)
    name: str = "draft"


@dataclass
class SpeculativeStats:
    draft: str
    num_speculative_tokens: int
    proposed_tokens: int
    accepted_tokens: int
    sequence_steps: int  # (sequence, speculative step) pairs verified
    tokens_per_step: float  # the moving average the fallback compares with min_tokens_per_step
    min_tokens_per_step: float
    active: bool  # False while decoding plainly for low acceptance
    fallback_steps: dict[str, int]

    @property
    def acceptance_rate(self) -> float | None:
        return self.accepted_tokens / self.proposed_tokens if self.proposed_tokens else None


def draft_model_config(target: ModelConfig, draft: DraftModel) -> ModelConfig:
    """The draft's shape, refused unless its logits are over the target's vocabulary."""
    config = ModelConfig.from_hf(draft.hf_config)
    if config.vocab_size != target.vocab_size:
        raise DraftError(f"draft {draft.name!r} has vocab_size {config.vocab_size}, the target "
                          f"{target.vocab_size}: a draft must share the target's tokenizer and vocabulary")
    return config


def check_tokenizers(target: Tokenizer | None, draft: Tokenizer | None, draft_name: str) -> None:
    """Same ids for the same pieces, or the draft's proposals would be another language."""
    if target is None or draft is None:
        return
    if target.vocab_size != draft.vocab_size:
        raise DraftError(f"draft {draft_name!r}: its tokenizer has {draft.vocab_size} tokens, the "
                          f"target's {target.vocab_size}")
    for i in range(target.vocab_size):
        if target.id_to_piece(i) != draft.id_to_piece(i):
            raise DraftError(f"draft {draft_name!r}: its tokenizer differs from the target's at id {i} "
                              f"({draft.id_to_piece(i)!r} vs {target.id_to_piece(i)!r})")


@dataclass(frozen=True, slots=True)
class _DraftState:
    """How many of a sequence's tokens have their K/V in the draft's cache, for one admission."""

    admission: int  # the sequence's num_preemptions then: a preemption frees its blocks, the draft's K/V too
    computed: int


def _push_proposal(seq: Sequence, token_id: int) -> None:
    """Append a draft proposal to token_ids only (the runner feeds token_ids): it is not output
    until the target keeps it."""
    seq.token_ids.append(token_id)


def _drop_proposals(seq: Sequence) -> None:
    del seq.token_ids[seq.num_prompt_tokens + seq.num_output_tokens:]


def _decode_rows(batch: ScheduledBatch) -> list[int]:
    """Rows that feed one token and sample: the ones a draft can propose for."""
    return [i for i, n in enumerate(batch.num_tokens) if n == 1 and batch.samples(i)]


def _plain_greedy(seq: Sequence) -> bool:
    return seq.params.greedy and seq.params.repetition_penalty == 1.0


def _parameters(runner: ModelRunner) -> int:
    return sum(p.numel() for p in runner.model.parameters())


def _bucket(rows: int) -> int:
    """Batch sizes 1, 2, 3-4, 5-8, ... share a measurement."""
    return (rows - 1).bit_length()


class StepTimer:
    """Seconds per generated token of speculative and of plain decode steps, per batch-size bucket.

    The engine's steps are timed from one plan() to the next, and the tokens they produced in
    between (several steps when plain ones are queued ahead) divide the time, so each kind pays
    its own sampling, scheduling and read-back. A gap with no decode (an idle engine, a prefill-only
    step) measures nothing, nor does a speculative step some sequence of which could not be given
    all k proposals (the end of its max_tokens or context, full KV blocks): it yields fewer
    tokens than speculation does. An estimate is the median of the kind's last TIME_SAMPLES
    samples, so one pause on a shared machine does not flip the choice.

    The slower kind runs again, to be re-measured, once it has waited long enough that its extra
    cost stays under PROBE_BUDGET of the time ((ratio - 1) / budget decisions in its bucket),
    but no later than 4 x `probe_interval`; and no sooner than 2, 4, 8, ... decisions (one
    sample, two, three...) up to `probe_interval`, so that a first unlucky sample is soon redone.
    """

    def __init__(self, probe_interval: int, clock: Callable[[], float] = time.perf_counter) -> None:
        self.probe_interval = probe_interval
        self._clock = clock
        self.seconds_per_token: dict[tuple[bool, int], float] = {}
        self.samples: dict[tuple[bool, int], int] = {}
        self._recent: dict[tuple[bool, int], deque[float]] = {}
        self._waited: dict[tuple[bool, int], int] = {}  # decisions since the kind last ran there
        self._open: tuple[float, bool, int] | None = None
        self._tokens = 0

    def produced(self, tokens: int) -> None:
        self._tokens += tokens

    def stop(self) -> None:
        """Close the interval running (if any) and open none."""
        now = self._clock()
        if self._open is not None and self._tokens:
            started, speculative, bucket = self._open
            sample = (now - started) / self._tokens
            key = (speculative, bucket)
            self.samples[key] = self.samples.get(key, 0) + 1
            recent = self._recent.setdefault(key, deque(maxlen=TIME_SAMPLES))
            recent.append(sample)
            self.seconds_per_token[key] = statistics.median(recent)
        self._open = None
        self._tokens = 0

    def start(self, speculative: bool, rows: int, measured: bool = True) -> None:
        """A decode step of this kind begins (the one before it ended with stop()); `measured`
        False: it counts as run, but its time is not a sample."""
        bucket = _bucket(rows)
        self._open = (self._clock(), speculative, bucket) if measured else None
        self._waited[(speculative, bucket)] = 0
        other = (not speculative, bucket)
        self._waited[other] = self._waited.get(other, 0) + 1

    def choice(self, rows: int) -> str | None:
        """Why the next step at this batch size should be plain ('slower': speculation measured
        slower; 'speed_probe': plain steps unmeasured here, or not re-measured for a while), or
        None: speculate (faster, unmeasured, or due for its own re-measurement)."""
        bucket = _bucket(rows)
        spec = self.seconds_per_token.get((True, bucket))
        plain = self.seconds_per_token.get((False, bucket))
        if spec is None:
            return None  # measure speculation first
        if plain is None or (spec <= plain and self._due(False, bucket, plain / spec)):
            return "speed_probe"
        if spec > plain and not self._due(True, bucket, spec / plain):
            return "slower"
        return None

    def _due(self, speculative: bool, bucket: int, ratio: float) -> bool:
        """Whether the slower kind (`ratio` x the other's time per token) is due to be measured again."""
        key = (speculative, bucket)
        soonest = min(self.probe_interval, 2 ** self.samples.get(key, 0))
        wait = min(4 * self.probe_interval, max(soonest, math.ceil((ratio - 1) / PROBE_BUDGET)))
        return self._waited.get(key, 0) >= wait


class Speculator:
    def __init__(self, target: ModelRunner, block_manager: BlockManager, draft: DraftModel,
                 model_config: ModelConfig) -> None:
        self.target = target
        self.block_manager = block_manager
        self.name = draft.name
        self.config = draft.config
        # As many blocks as the target's pool: the draft's cache is indexed by the same block ids.
        engine_config = replace(target.config, num_kv_blocks=target.num_blocks, gpu_memory_utilization=None)
        self.runner = ModelRunner(model_config, engine_config, draft.state_dict, target.max_model_len)
        k = self.config.num_speculative_tokens
        threshold = self.config.min_tokens_per_step
        self.min_tokens_per_step = (1 + k * _parameters(self.runner) / _parameters(target)
                                    if threshold is None else threshold)
        # Optimistic start: speculate until the average says it does not pay.
        self.tokens_per_step = float(k + 1)
        self._plain_steps_left = 0
        self.proposed = self.accepted = self.sequence_steps = 0
        self.fallback_steps = dict.fromkeys(FALLBACK_REASONS, 0)
        self.timer = StepTimer(self.config.probe_interval)
        self._drafts: dict[int, _DraftState] = {}  # by sequence id, while it runs or waits to run again

    @property
    def active(self) -> bool:
        return self._plain_steps_left == 0

    def stats(self) -> SpeculativeStats:
        return SpeculativeStats(self.name, self.config.num_speculative_tokens, self.proposed, self.accepted,
                                self.sequence_steps, self.tokens_per_step, self.min_tokens_per_step, self.active, dict(self.fallback_steps))

    # -- the draft's cache, per sequence --------------------------------------------------

    def _draft_computed(self, seq: Sequence) -> int:
        state = self._drafts.get(seq.seq_id)
        if state is None or state.admission != seq.num_preemptions:
            # Admitted (again): a prefix-cache hit holds the draft's K/V too (see cached_tokens).
            state = self._drafts[seq.seq_id] = _DraftState(seq.num_preemptions, seq.num_cached_tokens)
        return state.computed

    def _set_draft_computed(self, seq: Sequence, computed: int) -> None:
        self._drafts[seq.seq_id] = _DraftState(seq.num_preemptions, computed)

    def cached_tokens(self, seq: Sequence) -> int:
        """The sequence's leading tokens whose K/V both caches hold: only blocks within them may
        enter the prefix cache, so that a hit serves the draft too."""
        return min(seq.num_computed_tokens, self._draft_computed(seq))

    def release(self, seq_id: int) -> None:
        """The sequence finished: forget its draft state."""
        self._drafts.pop(seq_id, None)

    # -- the step clock -------------------------------------------------------------------

    def idle(self) -> None:
        """The engine had nothing to run: no step to time."""
        self.timer.stop()

    def produced(self, tokens: int) -> None:
        """A step (of either kind) generated `tokens`."""
        self.timer.produced(tokens)

    # -- plain steps ----------------------------------------------------------------------

    def follow(self, batch: ScheduledBatch) -> None:
        """Run the draft over the batch's prefill chunks (from where it lags, if it does), so a
        prompt's blocks can enter the prefix cache for both models. Decode rows are left out; the
        draft catches up on them when it next proposes."""
        decoding = set(_decode_rows(batch))
        rows = [i for i in range(len(batch.seqs)) if i not in decoding]
        if not rows:
            return
        seqs = [batch.seqs[i] for i in rows]
        ends = [batch.seqs[i].num_computed_tokens + batch.num_tokens[i] for i in rows]
        starts = [self._draft_computed(seq) for seq in seqs]
        self.runner.fill(ScheduledBatch(seqs, [e - s for e, s in zip(ends, starts, strict=True)], starts))
        for seq, end in zip(seqs, ends, strict=True):
            self._set_draft_computed(seq, end)

    # -- speculative steps ----------------------------------------------------------------

    def plan(self, batch: ScheduledBatch) -> list[int] | None:
        """Draft tokens per sequence when this step speculates (their slots are taken from the free
        blocks; prefill chunks get none), else None: the step runs plainly."""
        decoding = _decode_rows(batch)
        self.timer.stop()  # the step before ends: its time counts in this step's decision
        if not decoding:
            return None
        ks = self._plan(batch, decoding)
        full = ks is None or all(ks[i] == self.config.num_speculative_tokens for i in decoding)
        self.timer.start(ks is not None, len(decoding), measured=full)
        return ks

    def _plan(self, batch: ScheduledBatch, decoding: list[int]) -> list[int] | None:
        if len(decoding) > self.config.max_batch_size:
            self.fallback_steps["large_batch"] += 1
            return None
        if self._plain_steps_left:
            self._plain_steps_left -= 1
            self.fallback_steps["low_acceptance"] += 1
            if not self._plain_steps_left:
                # The next decode step probes: from the threshold, one step below it falls back again.
                self.tokens_per_step = self.min_tokens_per_step
            return None
        verdict = self.timer.choice(len(decoding)) if self.config.compare_speed else None
        if verdict is not None:
            self.fallback_steps[verdict] += 1
            return None
        bm = self.block_manager
        budget = self.target.config.max_num_batched_tokens - batch.total_tokens
        ks = [0] * len(batch.seqs)
        for i in decoding:
            seq = batch.seqs[i]
            # A step adds up to k + 1 tokens: no more than max_tokens and the context allow.
            room = min(seq.params.max_tokens - seq.num_output_tokens, self.target.max_model_len - len(seq))
            k = max(0, min(self.config.num_speculative_tokens, room - 1, budget))
            while k and bm.append_need(seq, k + 1) > bm.num_free_blocks:
                k -= 1  # speculation never preempts: propose what the free blocks hold
            bm.may_append(seq, k + 1)
            budget -= k
            ks[i] = k
        return ks if any(ks) else None

    def step(self, batch: ScheduledBatch, ks: list[int], sampler: Sampler) -> list[list[int]]:
        """Propose, verify, accept. Returns the tokens each sequence gains, in order: its kept
        proposals, then one token of the target's (a prefill chunk: one token if it ends the
        prompt, else none). The sequences are left as they were (the caller appends what it
        emits, and counts the chunks computed); the draft's cache is marked as far as the kept
        tokens go."""
        seqs = batch.seqs
        self.follow(batch)
        lengths = [len(seq) for seq in seqs]
        qs = self._propose(seqs, ks, sampler)
        verify = ScheduledBatch(list(seqs), [n + k for n, k in zip(batch.num_tokens, ks, strict=True)])
        # Logits only where a token is drawn: the last k + 1 tokens of each sequence that samples.
        rows: list[int] = []
        end = 0
        for i, n in enumerate(verify.num_tokens):
            end += n
            if verify.samples(i):
                rows.extend(range(end - ks[i] - 1, end))
        logits = self.target.token_logits(verify, rows)
        argmax = logits.argmax(dim=-1).tolist() if any(_plain_greedy(s) for s in seqs) else []
        runs: list[list[int]] = []
        offset = 0
        for i, (seq, k, length) in enumerate(zip(seqs, ks, lengths, strict=True)):
            if not verify.samples(i):
                runs.append([])
                continue
            here = range(offset, offset + k + 1)
            offset += k + 1
            if seq.seq_id in sampler.failures:
                run = [FAILED]  # a draft draw failed (see _propose): the engine ends it alone
            elif _plain_greedy(seq):
                run = self._accept_greedy(seq, length, [argmax[r] for r in here])
            elif seq.params.greedy:
                run = self._accept_greedy(seq, length, [
                    int(torch.argmax(warp(logits[r], seq.params, seq.token_ids[:length + j])).item())
                    for j, r in enumerate(here)])
            else:
                try:
                    run = self._accept_sampled(seq, length, logits[here.start:here.stop], qs[i], sampler)
                except SamplingError as err:  # this request's logits only: the others go on
                    run = [sampler.fail(seq, err)]
            runs.append(run)
            _drop_proposals(seq)
            if k:
                # The draft fed proposals 1..k-1: its K/V hold the kept ones, up to that.
                self._set_draft_computed(seq, length + min(len(run) - 1, k - 1))
                self.proposed += k
                self.accepted += len(run) - 1
        self._observe([len(run) for run, k in zip(runs, ks, strict=True) if k])
        return runs

    def _propose(self, seqs: list[Sequence], ks: list[int], sampler: Sampler) -> list[list[torch.Tensor]]:
        """Run the draft; its proposals are pushed onto the sequences. Returns per sequence the
        draft's distribution q of each proposal (none for greedy requests)."""
        qs: list[list[torch.Tensor]] = [[] for _ in seqs]
        for r in range(max(ks)):
            rows = [i for i, k in enumerate(ks) if k > r]
            group = [seqs[i] for i in rows]
            # The first pass also feeds what the draft skipped (plain decode steps, a full acceptance).
            starts = [self._draft_computed(seq) if r == 0 else len(seq) - 1 for seq in group]
            batch = ScheduledBatch(group, [len(seq) - s for seq, s in zip(group, starts, strict=True)], starts)
            logits = self.runner.logits(batch)
            argmax = logits.argmax(dim=-1).tolist() if any(_plain_greedy(s) for s in group) else []
            for row, (i, seq) in enumerate(zip(rows, group, strict=True)):
                if _plain_greedy(seq):
                    token = argmax[row]
                elif seq.seq_id in sampler.failures:
                    token = 0  # any id: the verification needs k proposals, the sequence then ends
                else:
                    warped = warp(logits[row], seq.params, seq.token_ids)
                    if seq.params.greedy:
                        token = int(torch.argmax(warped).item())
                    else:
                        q = torch.softmax(warped, dim=-1)
                        try:
                            token = draw(q, sampler.generator(seq, q.device))
                        except SamplingError as err:  # the draft's logits for this request went bad
                            sampler.fail(seq, err)
                            token = 0
                        qs[i].append(q)
                _push_proposal(seq, token)
        return qs

    @staticmethod
    def _accept_greedy(seq: Sequence, length: int, targets: list[int]) -> list[int]:
        proposals = seq.token_ids[length:]
        kept = 0
        while kept < len(proposals) and proposals[kept] == targets[kept]:
            kept += 1
        return proposals[:kept] + [targets[kept]]

    @staticmethod
    def _accept_sampled(seq: Sequence, length: int, logits: torch.Tensor, qs: list[torch.Tensor],
                        sampler: Sampler) -> list[int]:
        gen = sampler.generator(seq, logits.device)
        proposals = seq.token_ids[length:]
        run: list[int] = []
        for i, (token, q) in enumerate(zip(proposals, qs, strict=True)):
            p = torch.softmax(warp(logits[i], seq.params, seq.token_ids[:length + i]), dim=-1)
            u = torch.rand((), generator=gen, device=p.device)
            if bool((u * q[token] < p[token]).item()):  # kept with probability min(1, p/q)
                run.append(token)
                continue
            residual = (p - q).clamp_min(0.0)
            weights = residual if bool((residual.sum() > 0).item()) else p
            return run + [draw(weights, gen)]
        last = len(proposals)
        p = torch.softmax(warp(logits[last], seq.params, seq.token_ids[:length + last]), dim=-1)
        return run + [draw(p, gen)]

    def _observe(self, gains: list[int]) -> None:
        """Fold one step's tokens per sequence into the average; below the threshold, decode plainly
        for `probe_interval` decode steps (see plan)."""
        if not gains:
            return
        self.sequence_steps += len(gains)
        mean = sum(gains) / len(gains)
        self.tokens_per_step = (1 - EMA_WEIGHT) * self.tokens_per_step + EMA_WEIGHT * mean
        if self.tokens_per_step < self.min_tokens_per_step:
            self._plain_steps_left = self.config.probe_interval
