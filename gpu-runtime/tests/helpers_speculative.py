"""Targets and drafts for the speculative-decoding tests.

The target is a 4-layer tiny Llama whose last two layers add little to the residual stream,
so its first two layers (same embeddings, final norm and lm_head) make a draft that is
usually right but not always; an unrelated random 2-layer model makes a draft that is
almost never right.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
from helpers_engine import tiny_hf_llama
from safetensors.torch import load_file, save_file
from transformers import LlamaForCausalLM

from leitai_runtime.config import EngineConfig, SpeculativeConfig
from leitai_runtime.engine import LLMEngine
from leitai_runtime.speculative import DraftModel

TARGET_LAYERS = 4
DRAFT_LAYERS = 2
# Keep speculating whatever the acceptance and the speed, so every test exercises the speculative path.
ALWAYS = SpeculativeConfig(num_speculative_tokens=3, min_tokens_per_step=0.0, compare_speed=False)


DAMP = 0.1  # the target's layers past the draft's write this much of what they would


def _damped(name: str) -> bool:
    parts = name.split(".")
    return (name.startswith("model.layers.") and int(parts[2]) >= DRAFT_LAYERS
            and name.endswith(("o_proj.weight", "down_proj.weight")))


def speculative_target(seed: int = 0) -> LlamaForCausalLM:
    hf = tiny_hf_llama(seed=seed, num_hidden_layers=TARGET_LAYERS)
    with torch.no_grad():
        for name, param in hf.named_parameters():
            if _damped(name):
                param.mul_(DAMP)
    return hf


def damp_checkpoint(path: Path) -> None:
    """Damp a 4-layer checkpoint directory's last layers as speculative_target does."""
    weights = load_file(str(path / "model.safetensors"))
    damped = {k: v * DAMP if _damped(k) else v for k, v in weights.items()}
    save_file(damped, str(path / "model.safetensors"), metadata={"format": "pt"})


def first_layers(config: dict[str, Any], state_dict: dict[str, torch.Tensor], layers: int
                 ) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """A model's first `layers` layers with its embeddings, final norm and lm_head."""
    kept = {k: v for k, v in state_dict.items()
            if not k.startswith("model.layers.") or int(k.split(".")[2]) < layers}
    return {**config, "num_hidden_layers": layers}, kept


def truncated_draft(target: LlamaForCausalLM, config: SpeculativeConfig = ALWAYS) -> DraftModel:
    hf_config, weights = first_layers(target.config.to_dict(), target.state_dict(), DRAFT_LAYERS)
    return DraftModel(hf_config, weights, config, "truncated")


def random_draft(config: SpeculativeConfig = ALWAYS, seed: int = 5) -> DraftModel:
    hf = tiny_hf_llama(seed=seed, num_hidden_layers=DRAFT_LAYERS)
    return DraftModel(hf.config.to_dict(), hf.state_dict(), config, "random")


def speculative_engine(target: LlamaForCausalLM, draft: DraftModel, hf_config: dict[str, Any] | None = None,
                       **config: Any) -> LLMEngine:
    defaults: dict[str, Any] = dict(block_size=4, num_kv_blocks=256, max_num_batched_tokens=64)
    defaults.update(config)
    return LLMEngine(hf_config or target.config.to_dict(), target.state_dict(), EngineConfig(**defaults),
                     draft=draft)


def write_truncated_copy(src: Path, out: Path, layers: int) -> Path:
    """A checkpoint directory holding `src`'s first `layers` layers (its tokenizer copied along)."""
    config = json.loads((src / "config.json").read_text())
    hf_config, weights = first_layers(config, load_file(str(src / "model.safetensors")), layers)
    out.mkdir(parents=True)
    (out / "config.json").write_text(json.dumps(hf_config))
    save_file(weights, str(out / "model.safetensors"), metadata={"format": "pt"})
    shutil.copy(src / "tokenizer.model", out / "tokenizer.model")
    return out
