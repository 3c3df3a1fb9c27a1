"""Validated configuration: the model's shape (from an HF config.json) and the engine's knobs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from .layers.attention import ATTENTION_BACKENDS

ROPE_TYPES = ("linear", "dynamic", "yarn")
_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
# On CPU, the KV pools of all served models together, unless a size is given (--cpu-kv-budget).
DEFAULT_CPU_KV_BUDGET = 384 << 20


class ConfigError(ValueError):
    """A model or engine setting that cannot work; the message names the field."""


@dataclass(frozen=True, slots=True)
class RopeScaling:
    """HF `rope_scaling`, normalised. `original_max_position_embeddings` only matters for YaRN."""

    rope_type: str
    factor: float
    original_max_position_embeddings: int | None = None
    beta_fast: float = 32.0
    beta_slow: float = 1.0
    mscale: float | None = None
    mscale_all_dim: float | None = None
    attention_factor: float | None = None
    truncate: bool = True

    def __post_init__(self) -> None:
        if self.rope_type not in ROPE_TYPES:
            raise ConfigError(f"rope_scaling.type {self.rope_type!r} is not supported; valid: {', '.join(ROPE_TYPES)}")
        if not (self.factor >= 1.0 and math.isfinite(self.factor)):
            raise ConfigError(f"rope_scaling.factor must be a finite number >= 1, got {self.factor}")

    @classmethod
    def from_hf(cls, raw: dict[str, Any] | None) -> RopeScaling | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            raise ConfigError(f"rope_scaling must be an object or null, got {type(raw).__name__}")
        rope_type = raw.get("rope_type", raw.get("type"))
        if rope_type in (None, "default"):
            return None
        if "factor" not in raw:
            raise ConfigError("rope_scaling.factor is required")
        return cls(
            rope_type=str(rope_type),
            factor=float(raw["factor"]),
            original_max_position_embeddings=raw.get("original_max_position_embeddings"),
            beta_fast=float(raw.get("beta_fast") or 32.0),
            beta_slow=float(raw.get("beta_slow") or 1.0),
            mscale=raw.get("mscale"),
            mscale_all_dim=raw.get("mscale_all_dim"),
            attention_factor=raw.get("attention_factor"),
            truncate=bool(raw.get("truncate", True)),
        )


@dataclass(frozen=True, slots=True)
class Architecture:
    """A model family the runtime serves: transformers' class name and model_type."""

    name: str
    model_type: str
    qkv_bias: bool  # q/k/v projections add a bias (o_proj never does)


# Qwen2 is Llama with biases on q/k/v; everything else (RMSNorm, SiLU MLP, rotate-half RoPE) is shared.
ARCHITECTURES = (Architecture("LlamaForCausalLM", "llama", False), Architecture("Qwen2ForCausalLM", "qwen2", True))
_ACTIVATIONS = ("silu", "swish")  # transformers' names for x * sigmoid(x)
_MOE_FIELDS = ("num_experts", "num_local_experts", "n_routed_experts", "n_shared_experts", "moe_intermediate_size")
_QK_NORM_FIELDS = ("qk_layernorm", "use_qk_norm", "qk_norm")
_SOFTCAP_FIELDS = ("final_logit_softcapping", "attn_logit_softcapping")
# Multipliers other Llama-like families put on embeddings, residuals, logits or attention scores;
# the runtime computes plain Llama, where each is 1 (or absent).
_MULTIPLIER_FIELDS = ("embedding_multiplier", "residual_multiplier", "logits_scaling", "scale_emb", "logit_scale")
_SCALE_FIELDS = ("attention_multiplier", "query_pre_attn_scalar", "scale_depth")


def _refuse(field: str, value: Any, why: str) -> ConfigError:
    return ConfigError(f"{field} = {value!r} is not supported: {why}")


def served_architecture(hf: dict[str, Any]) -> Architecture:
    """The architecture of an HF config.json dict, refusing any field whose value changes the
    computation in a way the model code does not implement (ConfigError naming the field).

    A field that is absent, null, or at the value plain Llama uses passes.
    """
    by_name = {a.name: a for a in ARCHITECTURES}
    by_type = {a.model_type: a for a in ARCHITECTURES}
    names = hf.get("architectures") or []
    if not isinstance(names, list):
        raise ConfigError(f"architectures must be a list, got {names!r}")
    for name in names:
        if name not in by_name:
            raise ConfigError(f"unsupported architecture {name!r} (supported: {', '.join(by_name)})")
    model_type = hf.get("model_type")
    if model_type is not None and model_type not in by_type:
        raise ConfigError(f"unsupported model_type {model_type!r} (supported: {', '.join(by_type)})")
    arch = by_name[names[0]] if names else by_type[model_type or "llama"]
    if any(by_name[n] is not arch for n in names) or model_type not in (None, arch.model_type):
        raise ConfigError(f"model_type {model_type!r} does not match architectures {names!r}")
    _check_fields(hf, arch)
    return arch


def _check_fields(hf: dict[str, Any], arch: Architecture) -> None:
    def given(field: str) -> Any:
        return hf.get(field)

    act = given("hidden_act")
    if act is not None and act not in _ACTIVATIONS:
        raise _refuse("hidden_act", act, "the MLP is SiLU-gated (hidden_act 'silu')")
    # transformers' Qwen2 always has q/k/v biases and reads no attention_bias; Llama's would also bias o_proj
    if arch.model_type == "llama" and given("attention_bias"):
        raise _refuse("attention_bias", given("attention_bias"), "Llama attention projections have no biases")
    if given("mlp_bias"):
        raise _refuse("mlp_bias", given("mlp_bias"), "MLP projections have no biases")
    if given("use_sliding_window"):
        raise _refuse("use_sliding_window", given("use_sliding_window"), "attention is over the whole context")
    window = given("sliding_window")
    # Qwen2 configs keep a window size that applies only with use_sliding_window
    if window is not None and arch.model_type == "llama" and window < int(hf.get("max_position_embeddings") or 2048):
        raise _refuse("sliding_window", window, "attention is over the whole context")
    layer_types = given("layer_types")
    if layer_types is not None and any(t != "full_attention" for t in layer_types):
        kinds = sorted({t for t in layer_types if t != "full_attention"})
        raise _refuse("layer_types", kinds, "every layer attends over the whole context ('full_attention')")
    if given("use_mrope"):
        raise _refuse("use_mrope", given("use_mrope"), "RoPE is one-dimensional")
    scaling = given("rope_scaling")
    if isinstance(scaling, dict) and scaling.get("mrope_section") is not None:
        raise _refuse("rope_scaling.mrope_section", scaling["mrope_section"], "RoPE is one-dimensional")
    rotary = given("partial_rotary_factor")
    if rotary is not None and rotary != 1:
        raise _refuse("partial_rotary_factor", rotary, "RoPE rotates the whole head")
    tie = given("tie_word_embeddings")
    if tie is not None and not isinstance(tie, bool):
        raise _refuse("tie_word_embeddings", tie, "it must be true or false")
    norm = given("norm_type")
    if norm is not None and norm not in ("rms_norm", "rmsnorm", "rms"):
        raise _refuse("norm_type", norm, "norms are RMSNorm")
    for field in ("layer_norm_eps", "layer_norm_epsilon"):
        if given(field) is not None and given("rms_norm_eps") is None:
            raise _refuse(field, given(field), "norms are RMSNorm (rms_norm_eps), not LayerNorm")
    for field in _QK_NORM_FIELDS:
        if given(field):
            raise _refuse(field, given(field), "queries and keys are not normalised")
    for field in _MOE_FIELDS:
        if given(field):
            raise _refuse(field, given(field), "the MLP is dense (no mixture of experts)")
    for field in _SOFTCAP_FIELDS:
        if given(field) is not None:
            raise _refuse(field, given(field), "logits are not soft-capped")
    for field in _MULTIPLIER_FIELDS:
        if given(field) is not None and given(field) != 1:
            raise _refuse(field, given(field), "Llama has no such multiplier (only 1 is served)")
    for field in _SCALE_FIELDS:
        if given(field) is not None:
            raise _refuse(field, given(field), "attention scores are scaled by head_dim ** -0.5 and residuals by 1")
    quant = given("quantization_config")
    if quant is not None:
        method = quant.get("quant_method") if isinstance(quant, dict) else quant
        raise _refuse("quantization_config.quant_method", method,
                      "pre-quantized weights are not served (use a GGUF or unquantized weights)")


def _positive(name: str, value: int | float) -> None:
    if not value > 0:
        raise ConfigError(f"{name} must be positive, got {value}")


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """The Llama shape the runtime needs, taken from an HF `config.json` dict (Llama or Qwen2)."""

    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    max_position_embeddings: int
    rms_norm_eps: float = 1e-6
    rope_theta: float = 10000.0
    rope_scaling: RopeScaling | None = None
    tie_word_embeddings: bool = False
    bos_token_id: int | None = 1
    eos_token_ids: tuple[int, ...] = (2,)
    qkv_bias: bool = False  # Qwen2

    def __post_init__(self) -> None:
        for name in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                     "num_attention_heads", "num_key_value_heads", "head_dim", "max_position_embeddings",
                     "rms_norm_eps", "rope_theta"):
            _positive(name, getattr(self, name))
        if self.num_attention_heads % self.num_key_value_heads:
            raise ConfigError(
                f"num_attention_heads ({self.num_attention_heads}) must be a multiple of "
                f"num_key_value_heads ({self.num_key_value_heads})")
        if self.head_dim % 2:
            raise ConfigError(f"head_dim must be even for rotary embeddings, got {self.head_dim}")

    @classmethod
    def from_hf(cls, hf: dict[str, Any]) -> ModelConfig:
        arch = served_architecture(hf)
        try:
            heads = int(hf["num_attention_heads"])
            hidden = int(hf["hidden_size"])
            eos = hf.get("eos_token_id", 2)
            eos_ids = tuple(int(e) for e in eos) if isinstance(eos, list) else (() if eos is None else (int(eos),))
            return cls(
                vocab_size=int(hf["vocab_size"]),
                hidden_size=hidden,
                intermediate_size=int(hf["intermediate_size"]),
                num_hidden_layers=int(hf["num_hidden_layers"]),
                num_attention_heads=heads,
                num_key_value_heads=int(hf.get("num_key_value_heads") or heads),
                head_dim=int(hf.get("head_dim") or hidden // heads),
                max_position_embeddings=int(hf.get("max_position_embeddings", 2048)),
                rms_norm_eps=float(hf.get("rms_norm_eps", 1e-6)),
                rope_theta=float(hf.get("rope_theta", 10000.0)),
                rope_scaling=RopeScaling.from_hf(hf.get("rope_scaling")),
                tie_word_embeddings=bool(hf.get("tie_word_embeddings", False)),
                bos_token_id=hf.get("bos_token_id", 1),
                eos_token_ids=eos_ids,
                qkv_bias=arch.qkv_bias,
            )
        except KeyError as missing:
            raise ConfigError(f"config.json lacks required field {missing.args[0]!r}") from None
        except (TypeError, ValueError) as bad:
            if isinstance(bad, ConfigError):
                raise
            raise ConfigError(f"config.json has a malformed field: {bad}") from None

    @property
    def context_limit(self) -> int:
        """Longest sequence the model is meant for, extended by its RoPE scaling.

        Linear/dynamic configs keep the trained length in max_position_embeddings; YaRN
        configs with original_max_position_embeddings already state the extended length.
        """
        scaling = self.rope_scaling
        if scaling is None or (scaling.rope_type == "yarn" and scaling.original_max_position_embeddings):
            return self.max_position_embeddings
        return int(self.max_position_embeddings * scaling.factor)


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Engine knobs. Either `num_kv_blocks` or `gpu_memory_utilization` sizes the KV pool; without
    `num_kv_blocks` on CPU, the pool is what `max_num_seqs` full-length sequences need, at most
    `cpu_kv_budget` bytes (and never less than one full-length sequence)."""

    block_size: int = 16
    num_kv_blocks: int | None = None
    gpu_memory_utilization: float | None = None
    cpu_kv_budget: int = DEFAULT_CPU_KV_BUDGET
    max_num_seqs: int = 64
    max_num_batched_tokens: int = 2048
    max_model_len: int | None = None
    device: str = "cpu"
    dtype: str = "float32"
    attention_backend: str = "torch"
    max_waiting: int = 256
    enable_prefix_caching: bool = True
    # GPU fast path: decode steps replayed from CUDA graphs (off: every step runs eagerly),
    # and Triton kernels for RMSNorm+residual, SiLU*mul, RoPE and the KV write.
    enforce_eager: bool = False
    fused_ops: bool = False
    max_graph_batch_size: int = 256
    # Decode-ahead: while a greedy graph decode step runs on the GPU, the host queues the next
    # one (fed the first one's tokens on the device) before reading the first one's tokens, so
    # scheduling and bookkeeping overlap the GPU's work. Off: every step is read back first.
    async_decode: bool = True

    def __post_init__(self) -> None:
        if self.block_size <= 0 or self.block_size & (self.block_size - 1):
            raise ConfigError(f"block_size must be a power of two, got {self.block_size}")
        if self.num_kv_blocks is not None and self.gpu_memory_utilization is not None:
            raise ConfigError("give either num_kv_blocks or gpu_memory_utilization, not both")
        if self.num_kv_blocks is not None and self.num_kv_blocks <= 0:
            raise ConfigError(f"num_kv_blocks must be positive, got {self.num_kv_blocks}")
        if self.gpu_memory_utilization is not None and not 0.0 < self.gpu_memory_utilization <= 1.0:
            raise ConfigError(f"gpu_memory_utilization must be in (0, 1], got {self.gpu_memory_utilization}")
        if self.cpu_kv_budget < 0:  # 0: one full-length sequence (what a budget spent by other models leaves)
            raise ConfigError(f"cpu_kv_budget must not be negative, got {self.cpu_kv_budget}")
        for name in ("max_num_seqs", "max_num_batched_tokens", "max_waiting", "max_graph_batch_size"):
            _positive(name, getattr(self, name))
        if self.max_model_len is not None and self.max_model_len <= 0:
            raise ConfigError(f"max_model_len must be positive, got {self.max_model_len}")
        if self.dtype not in _DTYPES:
            raise ConfigError(f"dtype {self.dtype!r} is not supported; valid: {', '.join(_DTYPES)}")
        if self.attention_backend not in ATTENTION_BACKENDS:
            raise ConfigError(f"attention_backend {self.attention_backend!r} is unknown; "
                              f"valid: {', '.join(sorted(ATTENTION_BACKENDS))}")
        if not (self.device == "cpu" or self.device.startswith("cuda")):
            raise ConfigError(f"device must be 'cpu' or 'cuda[:N]', got {self.device!r}")

    @property
    def torch_dtype(self) -> torch.dtype:
        return _DTYPES[self.dtype]


MAX_SPECULATIVE_TOKENS = 16


@dataclass(frozen=True, slots=True)
class SpeculativeConfig:
    """Speculative decoding with a draft model (see speculative.py).

    The engine decodes plainly while speculating does not pay: when the moving average of
    tokens a sequence gains per speculative step falls below `min_tokens_per_step` (then it
    probes again after `probe_interval` plain decode steps), when more than `max_batch_size`
    sequences decode (verification then costs compute, not just the weight reads a plain step
    pays anyway), and, with `compare_speed`, when the measured time per generated token of
    speculative steps is above that of plain ones at the same number of decoding sequences
    (each kind re-measured at least every `probe_interval` steps). `min_tokens_per_step`
    None: the break-even point if a step's cost is its weight reads, 1 + k x draft parameters
    / target parameters.
    """

    num_speculative_tokens: int = 4
    min_tokens_per_step: float | None = None
    probe_interval: int = 64
    max_batch_size: int = 32
    compare_speed: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.num_speculative_tokens <= MAX_SPECULATIVE_TOKENS:
            raise ConfigError(f"num_speculative_tokens must be in [1, {MAX_SPECULATIVE_TOKENS}], "
                              f"got {self.num_speculative_tokens}")
        if self.min_tokens_per_step is not None and not (
                0 <= self.min_tokens_per_step and math.isfinite(self.min_tokens_per_step)):
            raise ConfigError(f"min_tokens_per_step must be a finite number >= 0, got {self.min_tokens_per_step}")
        for name in ("probe_interval", "max_batch_size"):
            _positive(name, getattr(self, name))
