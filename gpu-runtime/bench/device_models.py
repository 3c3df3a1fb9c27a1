"""Random Llama weights made directly on the device, and a transformers model sharing them.

The 7B shape is built on the meta device and each tensor is materialised on the GPU in the
serving dtype: no disk, no CPU copy. Weights are small (std 0.02) so 32 layers of random
residual updates stay finite in fp16.
"""

from __future__ import annotations

from typing import Any

import torch

from leitai_runtime.config import ModelConfig
from leitai_runtime.models.llama import LlamaForCausalLM

LLAMA_7B = dict(hidden_size=4096, num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=32,
                intermediate_size=11008, vocab_size=55296, max_position_embeddings=4096)


def hf_config(shape: dict[str, Any]) -> dict[str, Any]:
    return {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "rms_norm_eps": 1e-5,
            "rope_theta": 10000.0, "bos_token_id": 1, "eos_token_id": 2, "tie_word_embeddings": False,
            "hidden_act": "silu", **shape}


def random_state_dict(config: dict[str, Any], dtype: torch.dtype, device: torch.device, seed: int,
                      std: float = 0.02) -> dict[str, torch.Tensor]:
    """HF-named random weights, each drawn on `device` in `dtype`; norm weights are ones."""
    with torch.device("meta"):
        shapes = {k: tuple(v.shape) for k, v in LlamaForCausalLM(ModelConfig.from_hf(config)).state_dict().items()}
    gen = torch.Generator(device=device).manual_seed(seed)
    out: dict[str, torch.Tensor] = {}
    for name, shape in shapes.items():
        t = torch.empty(shape, dtype=dtype, device=device)
        if name.endswith("norm.weight"):
            t.fill_(1.0)
        else:
            t.normal_(0.0, std, generator=gen)
        out[name] = t
    return out


def parameter_bytes(state_dict: dict[str, torch.Tensor]) -> int:
    seen: set[int] = set()
    total = 0
    for t in state_dict.values():
        if t.data_ptr() not in seen:
            seen.add(t.data_ptr())
            total += t.numel() * t.element_size()
    return total


def hf_model_sharing(config: dict[str, Any], state_dict: dict[str, torch.Tensor], device: torch.device) -> Any:
    """transformers' LlamaForCausalLM whose parameters are the same tensors (no second copy)."""
    from transformers import LlamaConfig
    from transformers import LlamaForCausalLM as HFLlama

    cfg = LlamaConfig(**{k: v for k, v in config.items() if k not in ("architectures", "model_type")})
    try:
        with torch.device("meta"):
            model = HFLlama(cfg)
        model.load_state_dict(state_dict, strict=True, assign=True)
        # The rotary inv_freq buffer is computed at init, so it is still on meta: rebuild it here.
        rotary = model.model.rotary_emb
        model.model.rotary_emb = type(rotary)(config=cfg, device=device)
    except (AttributeError, TypeError):  # another transformers layout: build on the device, then adopt
        previous = torch.get_default_dtype()
        torch.set_default_dtype(next(iter(state_dict.values())).dtype)  # its own weights briefly, not in fp32
        try:
            with torch.device(device):
                model = HFLlama(cfg)
        finally:
            torch.set_default_dtype(previous)
        model.load_state_dict(state_dict, strict=True, assign=True)
    if any(b.is_meta for b in model.buffers()):
        raise RuntimeError("transformers' model kept buffers on the meta device")
    # Never stop at EOS, like the engine's requests (ignore_eos); a min-length processor instead
    # would also forbid EOS as a token, which the engine may pick.
    if model.generation_config is not None:
        model.generation_config.eos_token_id = None
    return model.eval()
