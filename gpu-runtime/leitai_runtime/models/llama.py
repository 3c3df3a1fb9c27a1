"""Llama over a flattened batch: every token of every scheduled sequence in one [T, hidden]
tensor, with K/V written to and read from the paged cache through an attention backend.

Parameter names are transformers' (model.layers.N.self_attn.q_proj.weight, ...), so an HF
state dict loads without renaming.

Qwen2 is this model with biases on the q/k/v projections (`ModelConfig.qkv_bias`); o_proj and
the MLP have none in either.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..config import ModelConfig
from ..layers.attention import AttentionBackend, AttentionMetadata
from ..layers.mlp import LlamaMLP
from ..layers.norm import RMSNorm
from ..layers.ops import LayerOps, TorchOps

_TORCH_OPS = TorchOps()


class LlamaAttention(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.num_heads = config.num_attention_heads
        self.num_kv_heads = config.num_key_value_heads
        self.head_dim = config.head_dim
        self.scale = self.head_dim ** -0.5
        hidden, bias = config.hidden_size, config.qkv_bias
        self.q_proj = nn.Linear(hidden, self.num_heads * self.head_dim, bias=bias)
        self.k_proj = nn.Linear(hidden, self.num_kv_heads * self.head_dim, bias=bias)
        self.v_proj = nn.Linear(hidden, self.num_kv_heads * self.head_dim, bias=bias)
        self.o_proj = nn.Linear(self.num_heads * self.head_dim, hidden, bias=False)
        # set by fuse_projections (GPU path); the bias stays None without q/k/v biases
        self.qkv_weight: torch.Tensor | None = None
        self.qkv_bias: torch.Tensor | None = None

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, meta: AttentionMetadata,
                kv_cache: tuple[torch.Tensor, torch.Tensor], backend: AttentionBackend, ops: LayerOps
                ) -> torch.Tensor:
        t = x.shape[0]
        if self.qkv_weight is not None:  # one GEMM; q, k, v are strided views of its output
            kv_dim = self.num_kv_heads * self.head_dim
            q2, k2, v2 = F.linear(x, self.qkv_weight, self.qkv_bias).split([self.num_heads * self.head_dim, kv_dim, kv_dim], -1)
            q = q2.view(t, self.num_heads, self.head_dim)
            k = k2.view(t, self.num_kv_heads, self.head_dim)
            v = v2.view(t, self.num_kv_heads, self.head_dim)
        else:
            q = self.q_proj(x).view(t, self.num_heads, self.head_dim)
            k = self.k_proj(x).view(t, self.num_kv_heads, self.head_dim)
            v = self.v_proj(x).view(t, self.num_kv_heads, self.head_dim)
        q, k = ops.rope(q, k, cos, sin)
        k_cache, v_cache = kv_cache
        ops.write_kv(k, v, k_cache, v_cache, meta.slot_mapping)
        # Backends take strided rows (q is a view of the fused QKV output on the GPU path).
        out = backend.forward(q if q.stride(-1) == 1 else q.contiguous(), k_cache, v_cache, meta, self.scale)
        return self.o_proj(out.reshape(t, self.num_heads * self.head_dim))


class LlamaDecoderLayer(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.input_layernorm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.self_attn = LlamaAttention(config)
        self.post_attention_layernorm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.mlp = LlamaMLP(config.hidden_size, config.intermediate_size)

    def forward(self, x: torch.Tensor, residual: torch.Tensor | None, cos: torch.Tensor, sin: torch.Tensor,
                meta: AttentionMetadata, kv_cache: tuple[torch.Tensor, torch.Tensor], backend: AttentionBackend,
                ops: LayerOps) -> tuple[torch.Tensor, torch.Tensor]:
        """(MLP output, residual stream); the caller adds them (fused into the next norm)."""
        norm = self.input_layernorm
        if residual is None:
            h, residual = ops.rmsnorm(x, norm.weight, norm.eps), x
        else:
            h, residual = ops.add_rmsnorm(x, residual, norm.weight, norm.eps)
        h = self.self_attn(h, cos, sin, meta, kv_cache, backend, ops)
        norm = self.post_attention_layernorm
        h, residual = ops.add_rmsnorm(h, residual, norm.weight, norm.eps)
        mlp = self.mlp
        if mlp.gate_up_weight is not None:
            gate, up = F.linear(h, mlp.gate_up_weight).chunk(2, dim=-1)
        else:
            gate, up = mlp.gate_proj(h), mlp.up_proj(h)
        return mlp.down_proj(ops.silu_mul(gate, up)), residual


class LlamaModel(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        # A weight given: no random init. Its normal_ on the meta device (model_runner builds there)
        # would import torch._dynamo, over 100 MiB resident for nothing.
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size,
                                         _weight=torch.empty(config.vocab_size, config.hidden_size))
        self.layers = nn.ModuleList(LlamaDecoderLayer(config) for _ in range(config.num_hidden_layers))
        self.norm = RMSNorm(config.hidden_size, config.rms_norm_eps)


class LlamaForCausalLM(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.model = LlamaModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)

    def forward(self, input_ids: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, meta: AttentionMetadata,
                kv_caches: list[tuple[torch.Tensor, torch.Tensor]], backend: AttentionBackend,
                ops: LayerOps = _TORCH_OPS) -> torch.Tensor:
        """Hidden states [T, hidden] after the final norm."""
        x = self.model.embed_tokens(input_ids)
        residual: torch.Tensor | None = None
        for layer, kv_cache in zip(self.model.layers, kv_caches, strict=True):
            x, residual = layer(x, residual, cos, sin, meta, kv_cache, backend, ops)
        norm = self.model.norm
        assert residual is not None  # a model has at least one layer (ModelConfig checks)
        return ops.add_rmsnorm(x, residual, norm.weight, norm.eps)[0]

    def compute_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.lm_head(hidden)

    @torch.no_grad()
    def fuse_projections(self, state_dict: dict[str, torch.Tensor] | None = None) -> None:
        """Concatenate q/k/v and gate/up weights so each is one GEMM (at batch 1 one large GEMV
        streams closer to peak bandwidth than three small ones); q/k/v biases, where the model
        has them, are concatenated alike. The per-projection parameters become views of the
        fused tensors, so names and state_dict() are unchanged; entries of `state_dict` that
        the model shares are swapped for those views layer by layer, so the unfused copies are
        freed as it goes instead of doubling the weights' memory."""
        for i, layer in enumerate(self.model.layers):
            attn, mlp = layer.self_attn, layer.mlp
            groups = ((attn, "qkv", ("q_proj", "k_proj", "v_proj"), "self_attn"),
                      (mlp, "gate_up", ("gate_proj", "up_proj"), "mlp"))
            for module, fused_name, parts, prefix in groups:
                for kind in ("weight", "bias"):
                    if getattr(getattr(module, parts[0]), kind) is None:
                        continue
                    fused = torch.cat([getattr(getattr(module, p), kind) for p in parts])
                    start = 0
                    for p in parts:
                        old = getattr(getattr(module, p), kind)
                        view = fused[start:start + old.shape[0]]
                        setattr(getattr(module, p), kind, nn.Parameter(view, requires_grad=False))
                        key = f"model.layers.{i}.{prefix}.{p}.{kind}"
                        mine = state_dict.get(key) if state_dict is not None else None
                        if (state_dict is not None and mine is not None and mine.device == old.device
                                and mine.data_ptr() == old.data_ptr()):
                            state_dict[key] = view  # only entries the model had adopted (no dtype/device copy)
                        start += old.shape[0]
                    setattr(module, f"{fused_name}_{kind}", fused)

    def load_hf_state_dict(self, state_dict: dict[str, torch.Tensor]) -> None:
        """Copy weights by HF name; a tied checkpoint without lm_head reuses the embedding."""
        own = self.state_dict()
        weights = {k: v for k, v in state_dict.items() if not k.endswith("rotary_emb.inv_freq")}
        if "lm_head.weight" not in weights and "model.embed_tokens.weight" in weights:
            weights["lm_head.weight"] = weights["model.embed_tokens.weight"]
        missing = sorted(set(own) - set(weights))
        unexpected = sorted(set(weights) - set(own))
        if missing or unexpected:
            raise ValueError(f"checkpoint does not match the model's layout: missing {missing[:5]}, "
                             f"unexpected {unexpected[:5]}")
        for name, tensor in weights.items():
            if tuple(tensor.shape) != tuple(own[name].shape):
                raise ValueError(f"{name}: checkpoint shape {tuple(tensor.shape)} != model shape "
                                 f"{tuple(own[name].shape)}")
        # assign=True adopts the tensors (works on a meta-device model, keeps ties shared).
        self.load_state_dict(weights, strict=True, assign=True)
