"""LLMEngine: requests in, tokens and text out, one scheduler step at a time.

`add_request` and `abort` may be called from another thread than `step` (the HTTP server
runs steps in a worker thread): they only touch a small locked inbox that `step` drains.

A step runs in one of three decoding modes, each a method of its own; step() chooses:

- plain (_step_plain): run the scheduled batch, read back one token per sampling sequence.
- decode-ahead (_step_decode_ahead; config.async_decode, greedy graph decode steps): a step is
  queued on the GPU and read back by the next call, which first queues the step after it, fed
  the first one's tokens on the device. The host's reading, stop checks, detokenising and
  scheduling of one step then overlap the GPU's next step. A sequence's token of the step being
  read is held by a placeholder meanwhile (its K/V slot and block accounting are what the next
  step needs); a sequence that turns out to stop wastes one row of the step already queued for it.
- speculative (_step_speculative; a draft model, speculative.py, which also keeps the draft's
  own bookkeeping): a decode step may add several tokens per sequence; they go through the same
  stop checks one by one, so nothing after a stop is emitted. Its steps that do not speculate
  (prefill only, fallback) are plain ones; decode-ahead is off for a model served with a draft.

A request that fails inside a step (its draw, its stop checks or its text) ends alone, finished
with FinishReason.ERROR and the error on its output; the step goes on for the others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from .block_manager import BlockManager
from .config import ConfigError, EngineConfig, ModelConfig, SpeculativeConfig
from .loader.common import CheckpointError
from .memory import kv_bytes_per_block
from .model_runner import ModelRunner
from .rope import dynamic_alpha
from .sampler import FAILED
from .scheduler import QueueFullError, ScheduledBatch, Scheduler
from .sequence import (
    DEFAULT_PRIORITY,
    MAX_PRIORITY,
    MIN_PRIORITY,
    FinishReason,
    InvalidParamsError,
    SamplingParams,
    Sequence,
)
from .speculative import (
    DraftError,
    DraftModel,
    SpeculativeStats,
    Speculator,
    check_tokenizers,
    draft_model_config,
)
from .text_output import TextStream
from .tokenizer import Tokenizer

log = logging.getLogger(__name__)

THROUGHPUT_WINDOW_S = 10.0
MAX_ERROR_CHARS = 300  # of an exception's text in a failed request's error
PLACEHOLDER = -1  # a decode-ahead token not read back yet; never fed to the model

__all__ = ["LLMEngine", "RequestOutput", "EngineStats", "QueueFullError", "InvalidParamsError"]


@dataclass
class RequestOutput:
    seq_id: int
    new_token_ids: list[int]
    new_text: str
    finished: bool
    finish_reason: str | None
    num_prompt_tokens: int
    num_output_tokens: int
    time_to_first_token: float | None = None  # set on the output that carries the first token
    error: str | None = None  # why this request failed (finish_reason "error"); the others go on


@dataclass
class _Launched:
    """A decode step queued on the device whose sampled tokens have not been read back."""

    batch: ScheduledBatch
    tokens: torch.Tensor


@dataclass
class EngineStats:
    num_running: int
    num_waiting: int
    kv_blocks_used: int
    kv_blocks_free: int
    num_preemptions: int
    prefix_cache_hit_blocks: int
    prefix_cache_query_blocks: int
    prompt_tokens_total: int
    generation_tokens_total: int
    generation_tokens_per_s: float
    finished_total: dict[str, int] = field(default_factory=dict)
    preemptions: dict[str, int] = field(default_factory=dict)  # by reason: blocks, priority
    speculative: SpeculativeStats | None = None  # a model served with a draft


def load_draft(source: Path, target: ModelConfig, tokenizer: Tokenizer | None, config: EngineConfig,
               speculative: SpeculativeConfig) -> DraftModel:
    """A draft checkpoint on the target's dtype and device, refused (DraftError) unless it loads and
    shares the target's tokenizer and vocabulary."""
    from .loader import load_checkpoint

    name = source.stem if source.is_file() else source.name
    if not source.exists():
        raise DraftError(f"draft {name!r}: {source} does not exist")
    try:
        # Loaded before the target's KV pool is sized, so the pool leaves room for its weights.
        ckpt = load_checkpoint(source, dtype=config.torch_dtype, device=config.device)
    except (CheckpointError, OSError) as err:
        raise DraftError(f"draft {name!r}: {err}") from err
    except torch.OutOfMemoryError as err:
        torch.cuda.empty_cache()  # what it had loaded is garbage now; the target still needs its KV pool
        raise DraftError(f"draft {name!r} does not fit in device memory beside its target") from err
    check_tokenizers(tokenizer, ckpt.tokenizer, name)
    draft = DraftModel(ckpt.hf_config, ckpt.state_dict, speculative, name)
    draft_model_config(target, draft)
    return draft


class LLMEngine:
    def __init__(self, hf_config: dict[str, Any], state_dict: dict[str, torch.Tensor], config: EngineConfig,
                 tokenizer: Tokenizer | None = None, chat_template: str | None = None,
                 draft: DraftModel | None = None) -> None:
        self.model_config = ModelConfig.from_hf(hf_config)
        draft_config = draft_model_config(self.model_config, draft) if draft is not None else None
        if draft is not None:
            # Decode-ahead queues a step before the previous one's tokens are read back; a speculative
            # step needs them on the host for the draft to propose from, so the two do not combine.
            config = replace(config, async_decode=False)
        self.config = config
        self.tokenizer = tokenizer
        self.chat_template = chat_template  # the checkpoint's own Jinja template, if any
        self.draft_error: str | None = None  # why a configured draft is not used (from_path)
        self.max_model_len = config.max_model_len or self.model_config.context_limit
        if config.max_model_len is None and config.num_kv_blocks is not None:
            # Not asked for explicitly: shrink the context to what the KV pool can hold.
            self.max_model_len = min(self.max_model_len, config.num_kv_blocks * config.block_size)
        # The runner sizes the KV pool (on a GPU, after measuring a warm-up forward), leaving room
        # for the draft's cache, which has as many blocks.
        draft_bytes = kv_bytes_per_block(draft_config, config.block_size, config.torch_dtype) if draft_config else 0
        self.runner = ModelRunner(self.model_config, config, state_dict, self.max_model_len, draft_bytes)
        self.block_manager = BlockManager(self.runner.num_blocks, config.block_size, config.enable_prefix_caching)
        self.speculator = (Speculator(self.runner, self.block_manager, draft, draft_config)
                           if draft is not None and draft_config is not None else None)
        self.scheduler = Scheduler(config, self.block_manager)
        self.eos_ids = frozenset(self.model_config.eos_token_ids) | (
            {tokenizer.eos_id} if tokenizer is not None else set())
        self._seqs: dict[int, Sequence] = {}
        self._texts: dict[int, TextStream] = {}
        self._lock = threading.Lock()
        self._inbox: list[Sequence] = []
        self._aborts: list[int] = []
        self._recent: deque[tuple[float, int]] = deque()
        self._prompt_tokens = 0
        self._generated_tokens = 0
        self._finished: dict[str, int] = {r.value: 0 for r in FinishReason}
        self._launched: _Launched | None = None

    @classmethod
    def from_path(cls, path: str | Path, config: EngineConfig, draft_path: str | Path | None = None,
                  speculative: SpeculativeConfig | None = None, serve_without_draft: bool = False) -> LLMEngine:
        """Load a checkpoint, and `draft_path`'s as its speculative draft (raises ConfigError when
        the two do not share a tokenizer). With `serve_without_draft`, a draft that cannot be
        loaded or used is left out instead, and `draft_error` says why."""
        from .loader import load_checkpoint

        # Straight to the serving dtype and device: no float32 copy of a 7B model in host memory.
        ckpt = load_checkpoint(Path(path), dtype=config.torch_dtype, device=config.device)
        draft, draft_error = None, None
        if draft_path is not None:
            try:
                draft = load_draft(Path(draft_path), ModelConfig.from_hf(ckpt.hf_config), ckpt.tokenizer, config,
                                   speculative or SpeculativeConfig())
            except DraftError as err:
                if not serve_without_draft:
                    raise
                draft, draft_error = None, str(err)
        elif speculative is not None:
            raise ConfigError("speculative settings need a draft model")
        engine = cls(ckpt.hf_config, ckpt.state_dict, config, ckpt.tokenizer, ckpt.chat_template, draft)
        engine.draft_error = draft_error
        return engine

    # -- requests -------------------------------------------------------------------------

    def validate(self, prompt_ids: list[int], params: SamplingParams, priority: int = DEFAULT_PRIORITY) -> None:
        if isinstance(priority, bool) or not isinstance(priority, int) or not MIN_PRIORITY <= priority <= MAX_PRIORITY:
            raise InvalidParamsError("priority", f"priority must be an integer in [{MIN_PRIORITY}, {MAX_PRIORITY}], "
                                     f"got {priority!r}")
        if not prompt_ids:
            raise InvalidParamsError("prompt", "the prompt is empty")
        vocab = self.model_config.vocab_size
        if any(not 0 <= t < vocab for t in prompt_ids):
            raise InvalidParamsError("prompt", f"prompt token ids must be in [0, {vocab})")
        if len(prompt_ids) >= self.max_model_len:
            raise InvalidParamsError(
                "prompt", f"the prompt has {len(prompt_ids)} tokens; this model's context is "
                f"{self.max_model_len} tokens, including the answer")
        if params.max_tokens > self.max_model_len:
            raise InvalidParamsError("max_tokens", f"max_tokens must be <= {self.max_model_len}, the context "
                                     f"length, got {params.max_tokens}")
        if params.stop and self.tokenizer is None:
            raise InvalidParamsError("stop", "stop strings need a tokenizer")

    def add_request(self, prompt_ids: list[int], params: SamplingParams, priority: int = DEFAULT_PRIORITY) -> int:
        """Queue a request (lower `priority` is more urgent); raises InvalidParamsError or
        QueueFullError. Returns its sequence id."""
        self.validate(prompt_ids, params, priority)
        seq = Sequence(list(prompt_ids), params, priority)
        seq.rope_alpha = dynamic_alpha(self.model_config, len(prompt_ids))
        with self._lock:
            if len(self._inbox) + len(self.scheduler.waiting) >= self.config.max_waiting:
                raise QueueFullError(f"too many waiting requests (max {self.config.max_waiting})")
            self._inbox.append(seq)
            self._seqs[seq.seq_id] = seq
        return seq.seq_id

    def abort(self, seq_id: int) -> None:
        with self._lock:
            self._aborts.append(seq_id)

    def has_unfinished(self) -> bool:
        with self._lock:
            return bool(self._inbox or self._aborts) or self.scheduler.has_unfinished() or self._launched is not None

    # -- stepping -------------------------------------------------------------------------

    def _drain_inbox(self, outputs: list[RequestOutput]) -> None:
        with self._lock:
            new, aborts = self._inbox, self._aborts
            self._inbox, self._aborts = [], []
        for seq in new:
            self.scheduler.add(seq)
            self._prompt_tokens += seq.num_prompt_tokens
            if self.tokenizer is not None:
                self._texts[seq.seq_id] = TextStream(self.tokenizer, seq.prompt_ids, seq.params.stop)
        for seq_id in aborts:
            target = self._seqs.get(seq_id)
            if target is not None and not target.is_finished:
                outputs.append(self._finish(target, FinishReason.ABORT, [], ""))

    def _release(self, seq: Sequence, reason: FinishReason) -> None:
        """Free a finishing sequence's blocks and per-sequence state (a no-op the second time)."""
        self.scheduler.finish(seq, reason)
        self.runner.sampler.release(seq.seq_id)
        if self.speculator is not None:
            self.speculator.release(seq.seq_id)
        self._seqs.pop(seq.seq_id, None)

    def _finish(self, seq: Sequence, reason: FinishReason, new_ids: list[int], new_text: str,
                ttft: float | None = None) -> RequestOutput:
        self._release(seq, reason)
        stream = self._texts.pop(seq.seq_id, None)
        if stream is not None:
            # Whatever the reason (a stop token too), the text held back as a possible start of a
            # stop string, and the bytes of an unfinished character, are part of the answer.
            new_text += stream.finish()
        self._finished[reason.value] += 1
        return RequestOutput(seq.seq_id, new_ids, new_text, True, reason.value, seq.num_prompt_tokens,
                             seq.num_output_tokens, ttft)

    def _fail(self, seq: Sequence, error: str) -> RequestOutput:
        """End one sequence that failed inside a step; its blocks and state are freed as for any finish."""
        self._release(seq, FinishReason.ERROR)  # if it got as far as finishing, that reason stays
        self._texts.pop(seq.seq_id, None)
        self._finished[FinishReason.ERROR.value] += 1
        return RequestOutput(seq.seq_id, [], "", True, FinishReason.ERROR.value, seq.num_prompt_tokens,
                             seq.num_output_tokens, error=error)

    def _isolated(self, seq: Sequence, then: Callable[[Sequence, int], RequestOutput], token: int
                  ) -> RequestOutput:
        """then(seq, token) for a token just sampled, but a failure of its draw, stop checks or text
        ends this sequence alone instead of the step (every request in it)."""
        error = self.runner.sampler.take_failure(seq.seq_id)
        if error is None and token != FAILED:
            try:
                return then(seq, token)
            except Exception as err:
                log.exception("request %d failed; the others go on", seq.seq_id)
                error = f"{type(err).__name__}: {err}"[:MAX_ERROR_CHARS]
        return self._fail(seq, error or "sampling failed")

    def _postprocess(self, seq: Sequence, token: int) -> RequestOutput:
        seq.append_token(token)
        return self._after_token(seq, token)

    def _after_token(self, seq: Sequence, token: int) -> RequestOutput:
        """Stop checks and text for the token just added to `seq`."""
        ttft = seq.first_token_time - seq.arrival_time if (
            seq.num_output_tokens == 1 and seq.first_token_time is not None) else None
        params = seq.params
        if token in params.stop_token_ids or (token in self.eos_ids and not params.ignore_eos):
            return self._finish(seq, FinishReason.STOP, [token], "", ttft)
        text, stopped = "", False
        stream = self._texts.get(seq.seq_id)
        if stream is not None:
            text, stopped = stream.push(token)
        if stopped:
            return self._finish(seq, FinishReason.STOP, [token], text, ttft)
        if seq.num_output_tokens >= params.max_tokens or len(seq) >= self.max_model_len:
            return self._finish(seq, FinishReason.LENGTH, [token], text, ttft)
        return RequestOutput(seq.seq_id, [token], text, False, None, seq.num_prompt_tokens,
                             seq.num_output_tokens, ttft)

    def step(self) -> list[RequestOutput]:
        """One step in one of three decoding modes (see the module's doc), each a method of its own."""
        outputs: list[RequestOutput] = []
        self._drain_inbox(outputs)
        spec = self.speculator
        if self._launched is not None:  # decode-ahead: read back the step in flight before scheduling
            generated = self._step_decode_ahead(None, outputs)
        else:
            batch = self.scheduler.schedule()
            if not batch:
                if spec is not None:
                    spec.idle()
                return outputs
            draft_lens = spec.plan(batch) if spec is not None else None
            if draft_lens is not None:
                generated = self._step_speculative(batch, draft_lens, outputs)
            elif self.runner.can_decode_ahead(batch):
                generated = self._step_decode_ahead(batch, outputs)
            else:
                generated = self._step_plain(batch, outputs)
        if generated is not None:
            self._count(generated)
        return outputs

    # -- the three decoding modes: each returns the tokens it generated, None if it read none back

    def _step_plain(self, batch: ScheduledBatch, outputs: list[RequestOutput]) -> int:
        """Run the batch and read back one token for each sequence that samples."""
        tokens = iter(self.runner.run(batch))
        if self.speculator is not None:
            self.speculator.follow(batch)  # before _computed: blocks are published once the draft holds them
        generated = 0
        for i, (seq, n) in enumerate(zip(batch.seqs, batch.num_tokens, strict=True)):
            samples = batch.samples(i)
            self._computed(seq, n)
            if samples:
                generated += 1
                outputs.append(self._isolated(seq, self._postprocess, next(tokens)))
        return generated

    def _step_decode_ahead(self, batch: ScheduledBatch | None, outputs: list[RequestOutput]) -> int | None:
        """Queue `batch` (a greedy graph decode step) on the device and read nothing back yet; or,
        with None, read back the step in flight, having first queued the step after it when that
        is all the scheduler would run next."""
        if batch is not None:
            self._launched = _Launched(batch, self.runner.launch_decode(batch))
            return None
        launched, self._launched = self._launched, None
        assert launched is not None  # step() comes here with None only while a step is in flight
        ahead = self._queue_next(launched)
        return self._read_back(launched, ahead, outputs)

    def _step_speculative(self, batch: ScheduledBatch, draft_lens: list[int], outputs: list[RequestOutput]
                          ) -> int:
        """Each decoding sequence gains its kept draft tokens and one of the target's, token by token
        through the stop checks (one output per sequence); prefill chunks in the step run as in a
        plain one."""
        assert self.speculator is not None  # step() plans with it
        runs = self.speculator.step(batch, draft_lens, self.runner.sampler)
        generated = 0
        for seq, n, run in zip(batch.seqs, batch.num_tokens, runs, strict=True):
            self._computed(seq, n)
            emitted: list[RequestOutput] = []
            for m, token in enumerate(run):
                if m:
                    self._computed(seq, 1)  # the kept token before it, whose K/V the verification wrote
                emitted.append(self._isolated(seq, self._postprocess, token))
                if seq.is_finished:
                    break  # a stop mid-run: the tokens after it are dropped
            if not seq.is_finished:
                self.block_manager.release_unused(seq)  # the slots of rejected proposals
            if emitted:
                generated += len(emitted)
                outputs.append(_merge(emitted))
        return generated

    # -- what the modes share -------------------------------------------------------------

    def _computed(self, seq: Sequence, n: int) -> None:
        """`n` more of the sequence's tokens have their K/V in the cache (or will, once the
        step already queued ends): publish newly full blocks to the prefix cache."""
        seq.num_computed_tokens += n
        spec = self.speculator
        self.block_manager.register_computed(seq, spec.cached_tokens(seq) if spec is not None else None)

    def _count(self, generated: int) -> None:
        if self.speculator is not None:
            self.speculator.produced(generated)
        now = time.monotonic()
        self._generated_tokens += generated
        self._recent.append((now, generated))
        while self._recent and now - self._recent[0][0] > THROUGHPUT_WINDOW_S:
            self._recent.popleft()

    # -- decode-ahead's two halves --------------------------------------------------------

    def _queue_next(self, launched: _Launched) -> set[int]:
        """Queue the step after `launched` for its sequences that go on whatever token they get,
        when that is all the scheduler would run next; returns their ids (empty: nothing queued)."""
        if self.scheduler.waiting:
            return set()  # admitting them needs a prefill step: read back first
        rows: list[int] = []
        ending = 0
        for row, seq in enumerate(launched.batch.seqs):
            if seq.is_finished:  # aborted while its step ran
                continue
            if seq.num_output_tokens + 1 >= seq.params.max_tokens or len(seq) + 1 >= self.max_model_len:
                ending += 1  # this token is its last
                continue
            rows.append(row)
        if len(rows) + ending != len(self.scheduler.running):
            return set()  # another running sequence needs a step of its own
        seqs = [launched.batch.seqs[row] for row in rows]
        bm = self.block_manager
        # Two slots past the computed ones: the launched step's token, then the next step's.
        need = sum(bm.append_need(seq, 2) for seq in seqs)
        if not seqs or need > bm.num_free_blocks:
            return set()  # would need a preemption: leave that to the scheduler
        batch = ScheduledBatch()
        for seq in seqs:
            self._computed(seq, 1)  # the launched step's token is in the cache once it ends
            seq.append_token(PLACEHOLDER)
            bm.may_append(seq, 1)
            batch.add(seq, 1)
        if not self.runner.can_decode_ahead(batch):
            raise RuntimeError("decode-ahead built a batch the decode graphs cannot run")
        self._launched = _Launched(batch, self.runner.launch_decode(batch, (launched.tokens, rows)))
        return {seq.seq_id for seq in seqs}

    def _read_back(self, launched: _Launched, ahead: set[int], outputs: list[RequestOutput]) -> int:
        """Read a launched step's tokens (waits for it) and finish its bookkeeping; returns how many."""
        generated = 0
        for seq, token in zip(launched.batch.seqs, launched.tokens.tolist(), strict=True):
            if seq.is_finished:  # aborted, or stopped at the step before this one
                continue
            if seq.seq_id in ahead:
                seq.fill_last_token(token)
            else:
                self._computed(seq, 1)
                seq.append_token(token)
            generated += 1
            outputs.append(self._isolated(seq, self._after_token, token))
        return generated

    def stats(self) -> EngineStats:
        now = time.monotonic()
        # list() copies in one C call: /metrics reads this while step() runs in a worker thread.
        window = [(t, n) for t, n in list(self._recent) if now - t <= THROUGHPUT_WINDOW_S]
        span = max(now - window[0][0], 1e-3) if window else 0.0
        rate = sum(n for _, n in window) / span if window else 0.0
        bm = self.block_manager
        return EngineStats(
            num_running=len(self.scheduler.running),
            num_waiting=len(self.scheduler.waiting) + len(self._inbox),
            kv_blocks_used=bm.num_used_blocks,
            kv_blocks_free=bm.num_free_blocks,
            num_preemptions=self.scheduler.num_preemptions,
            prefix_cache_hit_blocks=bm.prefix_hit_blocks,
            prefix_cache_query_blocks=bm.prefix_query_blocks,
            prompt_tokens_total=self._prompt_tokens,
            generation_tokens_total=self._generated_tokens,
            generation_tokens_per_s=rate,
            finished_total=dict(self._finished),
            preemptions=dict(self.scheduler.preemptions),
            speculative=self.speculator.stats() if self.speculator is not None else None,
        )

    def generate(self, prompts: list[list[int]], params: SamplingParams | list[SamplingParams]
                 ) -> list[list[int]]:
        """Run requests to completion (tests, benchmarks): output token ids per prompt."""
        plist = params if isinstance(params, list) else [params] * len(prompts)
        ids = [self.add_request(p, sp) for p, sp in zip(prompts, plist, strict=True)]
        out: dict[int, list[int]] = {i: [] for i in ids}
        while self.has_unfinished():
            for o in self.step():
                out[o.seq_id].extend(o.new_token_ids)
        return [out[i] for i in ids]


def _merge(outputs: list[RequestOutput]) -> RequestOutput:
    """One output for several tokens a sequence gained in one step."""
    last = outputs[-1]
    ttft = next((o.time_to_first_token for o in outputs if o.time_to_first_token is not None), None)
    return RequestOutput(last.seq_id, [t for o in outputs for t in o.new_token_ids], "".join(o.new_text for o in outputs),
                         last.finished, last.finish_reason, last.num_prompt_tokens, last.num_output_tokens, ttft,
                         last.error)
