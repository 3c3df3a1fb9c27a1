"""Rotary position embeddings with HF-compatible scaling: linear, dynamic NTK and YaRN.

Dynamic NTK is fixed per request: alpha comes from the prompt length when the request is
admitted and is kept for its whole life, so keys already in the paged cache never go stale
(transformers instead re-derives the base every step, which changes the rotation of keys it
has already cached).
"""

from __future__ import annotations

import math

import torch

from .config import ModelConfig, RopeScaling


def default_inv_freq(base: float, dim: int) -> torch.Tensor:
    # Same expression (int64 arange, then float) as transformers, for bit-identical frequencies.
    return 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).to(dtype=torch.float) / dim))


def dynamic_alpha(config: ModelConfig, prompt_len: int) -> float:
    """NTK alpha for a request whose prompt has `prompt_len` tokens (1.0 within the trained length)."""
    scaling = config.rope_scaling
    if scaling is None or scaling.rope_type != "dynamic":
        return 1.0
    seq_len = max(prompt_len, config.max_position_embeddings)
    return scaling.factor * seq_len / config.max_position_embeddings - (scaling.factor - 1)


def _yarn_mscale(scale: float, mscale: float = 1.0) -> float:
    return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0


def _yarn(config: ModelConfig, scaling: RopeScaling) -> tuple[torch.Tensor, float]:
    dim, base, factor = config.head_dim, config.rope_theta, scaling.factor
    original = scaling.original_max_position_embeddings or config.max_position_embeddings
    attention_factor = scaling.attention_factor
    if attention_factor is None:
        if scaling.mscale and scaling.mscale_all_dim:
            attention_factor = _yarn_mscale(factor, scaling.mscale) / _yarn_mscale(factor, scaling.mscale_all_dim)
        else:
            attention_factor = _yarn_mscale(factor)

    def correction_dim(rotations: float) -> float:
        return (dim * math.log(original / (rotations * 2 * math.pi))) / (2 * math.log(base))

    low, high = correction_dim(scaling.beta_fast), correction_dim(scaling.beta_slow)
    if scaling.truncate:
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, dim - 1)
    if low == high:
        high += 0.001  # avoid a zero-width ramp
    ramp = torch.clamp((torch.arange(dim // 2, dtype=torch.float32) - low) / (high - low), 0, 1)
    extrapolation_weight = 1 - ramp
    pos_freqs = base ** (torch.arange(0, dim, 2).to(dtype=torch.float) / dim)
    inv_extra, inv_inter = 1.0 / pos_freqs, 1.0 / (factor * pos_freqs)
    inv_freq = inv_inter * (1 - extrapolation_weight) + inv_extra * extrapolation_weight
    return inv_freq, float(attention_factor)


def rope_parameters(config: ModelConfig, alpha: float = 1.0) -> tuple[torch.Tensor, float]:
    """(inv_freq [head_dim/2] float32, cos/sin multiplier) for this model and NTK alpha."""
    scaling, dim = config.rope_scaling, config.head_dim
    if scaling is None:
        return default_inv_freq(config.rope_theta, dim), 1.0
    if scaling.rope_type == "linear":
        return default_inv_freq(config.rope_theta, dim) / scaling.factor, 1.0
    if scaling.rope_type == "dynamic":
        base = config.rope_theta * alpha ** (dim / (dim - 2))
        return default_inv_freq(base, dim), 1.0
    return _yarn(config, scaling)


class RotaryEmbedding:
    """Builds cos/sin for a flattened batch where each sequence may carry its own NTK alpha."""

    def __init__(self, config: ModelConfig, device: torch.device | str = "cpu") -> None:
        self.config = config
        self.device = torch.device(device)
        inv_freq, self.attention_scaling = rope_parameters(config)
        self.inv_freq = inv_freq.to(self.device)
        self._per_alpha: dict[float, torch.Tensor] = {1.0: self.inv_freq}

    def inv_freq_for(self, alpha: float) -> torch.Tensor:
        if alpha not in self._per_alpha:
            self._per_alpha[alpha] = rope_parameters(self.config, alpha)[0].to(self.device)
        return self._per_alpha[alpha]

    def cos_sin(self, positions: torch.Tensor, alphas: list[float] | None = None,
                token_seq: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """cos, sin of shape [num_tokens, head_dim] in float32.

        `alphas[i]` is sequence i's NTK alpha and `token_seq[t]` the sequence of token t.
        """
        if alphas is None or all(a == 1.0 for a in alphas) or token_seq is None:
            inv = self.inv_freq[None, :].expand(positions.shape[0], -1)
        else:
            table = torch.stack([self.inv_freq_for(a) for a in alphas])
            inv = table[token_seq]
        freqs = inv * positions.to(torch.float32)[:, None]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos() * self.attention_scaling, emb.sin() * self.attention_scaling
