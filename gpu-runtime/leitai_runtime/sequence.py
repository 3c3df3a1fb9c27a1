"""A request's state: its tokens, sampling parameters, lifecycle and place in the paged KV cache."""

from __future__ import annotations

import enum
import itertools
import math
import time
from dataclasses import dataclass, field


class SequenceStatus(enum.Enum):
    WAITING = "waiting"
    RUNNING = "running"
    PREEMPTED = "preempted"
    FINISHED = "finished"


class FinishReason(enum.StrEnum):
    STOP = "stop"
    LENGTH = "length"
    ABORT = "abort"
    # This request alone failed inside a step (its draw or its text); the others go on. Its
    # output carries the error, which the driver hands to the request as an EngineFailure.
    ERROR = "error"


# A request's priority, vLLM's convention: lower is more urgent (the arena sends live answers
# at 0, pre-generation at a larger value).
DEFAULT_PRIORITY = 0
MIN_PRIORITY = -1000
MAX_PRIORITY = 1000


class InvalidParamsError(ValueError):
    """A sampling parameter out of range; `param` names the field."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


@dataclass(frozen=True, slots=True)
class SamplingParams:
    temperature: float = 1.0
    top_k: int = 0  # 0 = disabled
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    seed: int | None = None
    max_tokens: int = 16
    stop: tuple[str, ...] = ()
    stop_token_ids: tuple[int, ...] = ()
    ignore_eos: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.temperature < math.inf:
            raise InvalidParamsError("temperature", f"temperature must be finite and >= 0, got {self.temperature}")
        if self.top_k < 0:
            raise InvalidParamsError("top_k", f"top_k must be >= 0 (0 disables it), got {self.top_k}")
        if not 0.0 < self.top_p <= 1.0:
            raise InvalidParamsError("top_p", f"top_p must be in (0, 1], got {self.top_p}")
        if not 0 < self.repetition_penalty < math.inf:
            raise InvalidParamsError("repetition_penalty",
                                     f"repetition_penalty must be finite and > 0, got {self.repetition_penalty}")
        if self.max_tokens < 1:
            raise InvalidParamsError("max_tokens", f"max_tokens must be >= 1, got {self.max_tokens}")
        if any(not s for s in self.stop):
            raise InvalidParamsError("stop", "stop strings must be non-empty")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0


_ids = itertools.count()


@dataclass(eq=False)
class Sequence:
    prompt_ids: list[int]
    params: SamplingParams
    priority: int = DEFAULT_PRIORITY
    # Issued in arrival order: with the priority, the scheduler's admission and preemption order.
    seq_id: int = field(default_factory=lambda: next(_ids))
    output_ids: list[int] = field(default_factory=list)
    status: SequenceStatus = SequenceStatus.WAITING
    finish_reason: FinishReason | None = None
    # Tokens whose K/V are in the cache; the rest of token_ids still has to be prefilled.
    num_computed_tokens: int = 0
    # Full blocks of this sequence already registered in the prefix cache.
    num_hashed_blocks: int = 0
    num_cached_tokens: int = 0  # prefix-cache hits at the last admission
    block_table: list[int] = field(default_factory=list)
    # NTK alpha fixed at first admission so cached keys stay valid for the request's life.
    rope_alpha: float | None = None
    arrival_time: float = field(default_factory=time.monotonic)
    first_token_time: float | None = None
    num_preemptions: int = 0

    def __post_init__(self) -> None:
        self.token_ids: list[int] = list(self.prompt_ids)

    def __len__(self) -> int:
        return len(self.token_ids)

    @property
    def num_prompt_tokens(self) -> int:
        return len(self.prompt_ids)

    @property
    def num_output_tokens(self) -> int:
        return len(self.output_ids)

    @property
    def urgency(self) -> tuple[int, int]:
        """Sort key: the most urgent first (lowest priority value, then earliest arrival)."""
        return self.priority, self.seq_id

    @property
    def num_uncomputed_tokens(self) -> int:
        return len(self.token_ids) - self.num_computed_tokens

    @property
    def is_finished(self) -> bool:
        return self.status == SequenceStatus.FINISHED

    def append_token(self, token_id: int) -> None:
        self.token_ids.append(token_id)
        self.output_ids.append(token_id)
        if self.first_token_time is None:
            self.first_token_time = time.monotonic()

    def fill_last_token(self, token_id: int) -> None:
        """Replace the placeholder that decode-ahead appended once the real token is read back."""
        self.token_ids[-1] = token_id
        self.output_ids[-1] = token_id

    def num_blocks_for(self, num_tokens: int, block_size: int) -> int:
        return (num_tokens + block_size - 1) // block_size
