"""Loading Hugging Face directories: formats, shards, dtypes, GQA, tied embeddings, and errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from helpers_model import make_tiny_llama
from safetensors.torch import load_file, save_file
from test_config import SUPPORTED_FIELDS, UNSUPPORTED_FIELDS, field_ids
from transformers import LlamaForCausalLM

from leitai_runtime.loader import CheckpointError, load_checkpoint
from leitai_runtime.tokenizer import SentencePieceTokenizer


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hf")


@pytest.fixture(scope="module")
def tiny(models: Path) -> Path:
    return make_tiny_llama(models, name="tiny")


def reference_state(hf_dir: Path) -> dict[str, torch.Tensor]:
    return LlamaForCausalLM.from_pretrained(hf_dir, dtype=torch.float32).state_dict()


@pytest.mark.parametrize(
    ("fmt", "shard"),
    [("safetensors", None), ("bin", None), ("safetensors", "100KB"), ("bin", "100KB")],
    ids=["safetensors", "bin", "sharded-safetensors", "sharded-bin"],
)
def test_weights_equal_transformers_in_every_layout(models: Path, fmt: str, shard: str | None) -> None:
    hf_dir = make_tiny_llama(models, name=f"layout-{fmt}-{shard}", fmt=fmt, max_shard_size=shard, seed=3)  # type: ignore[arg-type]
    if shard:
        assert len(list(hf_dir.glob("*.index.json"))) == 1
    ckpt = load_checkpoint(hf_dir)
    reference = reference_state(hf_dir)
    assert set(ckpt.state_dict) == set(reference)
    for name, tensor in reference.items():
        assert torch.equal(ckpt.state_dict[name], tensor), name


def test_config_is_filled_in_and_tokenizer_loaded(tiny: Path) -> None:
    ckpt = load_checkpoint(str(tiny))
    config = ckpt.hf_config
    assert ckpt.source == tiny
    assert config["architectures"] == ["LlamaForCausalLM"]
    assert (config["num_attention_heads"], config["num_key_value_heads"], config["head_dim"]) == (4, 2, 16)
    assert config["rope_scaling"] is None and config["rope_theta"] == 10000.0
    assert isinstance(ckpt.tokenizer, SentencePieceTokenizer)
    assert ckpt.tokenizer.vocab_size == config["vocab_size"]
    assert ckpt.tokenizer.decode(ckpt.tokenizer.encode("擂台 arena")) == "擂台 arena"


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_tensors_arrive_in_the_requested_dtype(tiny: Path, dtype: torch.dtype) -> None:
    ckpt = load_checkpoint(tiny, dtype=dtype, device="cpu")
    reference = reference_state(tiny)
    for name, tensor in ckpt.state_dict.items():
        assert tensor.dtype == dtype and tensor.device.type == "cpu"
        assert torch.equal(tensor, reference[name].to(dtype)), name


def test_grouped_query_attention_with_one_kv_head(models: Path) -> None:
    ckpt = load_checkpoint(make_tiny_llama(models, name="mqa", num_heads=4, num_kv_heads=1))
    assert ckpt.state_dict["model.layers.0.self_attn.k_proj.weight"].shape == (16, 64)
    assert ckpt.state_dict["model.layers.1.self_attn.v_proj.weight"].shape == (16, 64)
    assert ckpt.hf_config["num_key_value_heads"] == 1


def test_tied_embeddings_share_one_tensor(models: Path) -> None:
    hf_dir = make_tiny_llama(models, name="tied", tie_word_embeddings=True)
    assert "lm_head.weight" not in load_file(hf_dir / "model.safetensors")
    sd = load_checkpoint(hf_dir).state_dict
    assert sd["lm_head.weight"] is sd["model.embed_tokens.weight"]


@pytest.mark.parametrize(
    "scaling",
    [
        {"type": "linear", "factor": 4.0},
        {"rope_type": "dynamic", "factor": 2.0},
        {"rope_type": "yarn", "factor": 8.0, "original_max_position_embeddings": 64},
    ],
)
def test_rope_scaling_is_passed_through_with_both_spellings(models: Path, scaling: dict) -> None:
    kind = scaling.get("type", scaling.get("rope_type"))
    config = load_checkpoint(make_tiny_llama(models, name=f"rope-{kind}", rope_scaling=scaling)).hf_config
    assert config["rope_scaling"]["type"] == config["rope_scaling"]["rope_type"] == kind
    assert config["rope_scaling"]["factor"] == scaling["factor"]
    if kind == "yarn":
        assert config["rope_scaling"]["original_max_position_embeddings"] == 64


# --- errors: each names the file and the problem ---------------------------------------------


def broken_copy(tiny: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny, tmp_path / "broken"))


def edit_config(hf_dir: Path, **changes: object) -> None:
    config = json.loads((hf_dir / "config.json").read_text())
    config.update(changes)
    (hf_dir / "config.json").write_text(json.dumps(config))


def test_missing_config(tiny: Path, tmp_path: Path) -> None:
    hf_dir = broken_copy(tiny, tmp_path)
    (hf_dir / "config.json").unlink()
    with pytest.raises(CheckpointError, match=r"config\.json: missing config\.json"):
        load_checkpoint(hf_dir)


def test_missing_tokenizer(tiny: Path, tmp_path: Path) -> None:
    hf_dir = broken_copy(tiny, tmp_path)
    (hf_dir / "tokenizer.model").unlink()
    with pytest.raises(CheckpointError, match=r"no tokenizer: expected tokenizer\.model \(SentencePiece\) or tokenizer\.json"):
        load_checkpoint(hf_dir)
    (hf_dir / "tokenizer.json").write_text("{not json")
    with pytest.raises(CheckpointError, match=r"tokenizer\.json: cannot read the tokenizer"):
        load_checkpoint(hf_dir)
    (hf_dir / "tokenizer.model").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match=r"tokenizer\.model: cannot read the SentencePiece tokenizer"):
        load_checkpoint(hf_dir)


def test_missing_tensor(tiny: Path, tmp_path: Path) -> None:
    hf_dir = broken_copy(tiny, tmp_path)
    weights = load_file(hf_dir / "model.safetensors")
    del weights["model.layers.1.mlp.up_proj.weight"]
    save_file(weights, str(hf_dir / "model.safetensors"))
    with pytest.raises(CheckpointError, match=r"broken: missing tensor model\.layers\.1\.mlp\.up_proj\.weight"):
        load_checkpoint(hf_dir)


def test_wrong_shape(tiny: Path, tmp_path: Path) -> None:
    hf_dir = broken_copy(tiny, tmp_path)
    edit_config(hf_dir, intermediate_size=96)
    shape_error = r"model\.safetensors: tensor model\.layers\.0\.mlp\.\w+_proj\.weight has shape \[.*\], expected"
    with pytest.raises(CheckpointError, match=shape_error):
        load_checkpoint(hf_dir)


def test_unsupported_architecture(tiny: Path, tmp_path: Path) -> None:
    hf_dir = broken_copy(tiny, tmp_path)
    edit_config(hf_dir, architectures=["MistralForCausalLM"])
    with pytest.raises(CheckpointError, match=r"config\.json: unsupported architecture 'MistralForCausalLM'"):
        load_checkpoint(hf_dir)
    edit_config(hf_dir, architectures=None, model_type="mistral")
    with pytest.raises(CheckpointError, match=r"config\.json: unsupported model_type 'mistral'"):
        load_checkpoint(hf_dir)
    edit_config(hf_dir, model_type="llama", hidden_size=None)
    with pytest.raises(CheckpointError, match=r"config\.json: config is missing hidden_size"):
        load_checkpoint(hf_dir)


def test_incompatible_heads_and_unknown_rope_scaling(tiny: Path, tmp_path: Path) -> None:
    hf_dir = broken_copy(tiny, tmp_path)
    edit_config(hf_dir, num_key_value_heads=3)
    with pytest.raises(CheckpointError, match="not a multiple of num_key_value_heads"):
        load_checkpoint(hf_dir)
    edit_config(hf_dir, num_key_value_heads=2, rope_scaling={"rope_type": "longrope", "factor": 2.0})
    with pytest.raises(CheckpointError, match="unsupported rope_scaling type 'longrope'"):
        load_checkpoint(hf_dir)


@pytest.mark.parametrize(("change", "named"), UNSUPPORTED_FIELDS, ids=field_ids(UNSUPPORTED_FIELDS))
def test_unsupported_fields_are_refused_by_name(tiny: Path, tmp_path: Path, change: dict, named: str) -> None:
    hf_dir = broken_copy(tiny, tmp_path)
    edit_config(hf_dir, **change)
    with pytest.raises(CheckpointError, match=r"config\.json: .*" + named):
        load_checkpoint(hf_dir)


def test_the_same_fields_at_supported_values_load(tiny: Path, tmp_path: Path) -> None:
    hf_dir = broken_copy(tiny, tmp_path)
    edit_config(hf_dir, **SUPPORTED_FIELDS)
    config = load_checkpoint(hf_dir).hf_config
    assert config["rope_scaling"]["rope_type"] == "yarn" and config["hidden_act"] == "silu"
    edit_config(hf_dir, sliding_window=512)  # as long as the context: no window at all
    assert load_checkpoint(hf_dir).hf_config["sliding_window"] == 512


def test_tensors_the_model_would_leave_unused_are_refused(tiny: Path, tmp_path: Path) -> None:
    hf_dir = broken_copy(tiny, tmp_path)
    weights = load_file(hf_dir / "model.safetensors")
    weights["model.layers.0.self_attn.rotary_emb.inv_freq"] = torch.ones(8)  # older checkpoints: harmless
    save_file(weights, str(hf_dir / "model.safetensors"))
    load_checkpoint(hf_dir)
    weights["model.layers.1.self_attn.o_proj.bias"] = torch.zeros(64)
    save_file(weights, str(hf_dir / "model.safetensors"))
    with pytest.raises(CheckpointError, match=r"model\.safetensors: unexpected tensor model\.layers\.1\.self_attn\.o_proj\.bias"):
        load_checkpoint(hf_dir)


def test_tied_config_serves_the_embedding_even_beside_an_lm_head(tiny: Path, tmp_path: Path) -> None:
    hf_dir = broken_copy(tiny, tmp_path)
    edit_config(hf_dir, tie_word_embeddings=True)  # transformers ties, ignoring the stored lm_head
    sd = load_checkpoint(hf_dir).state_dict
    assert sd["lm_head.weight"] is sd["model.embed_tokens.weight"]


def test_missing_shard_and_missing_weights(models: Path, tmp_path: Path) -> None:
    hf_dir = Path(shutil.copytree(make_tiny_llama(models, name="shards", max_shard_size="100KB"), tmp_path / "s"))
    shard = sorted(hf_dir.glob("model-*.safetensors"))[-1]
    shard.unlink()
    with pytest.raises(CheckpointError, match=rf"{shard.name}: missing shard listed in model\.safetensors\.index\.json"):
        load_checkpoint(hf_dir)
    for file in hf_dir.glob("model*"):
        file.unlink()
    with pytest.raises(CheckpointError, match="no weights found"):
        load_checkpoint(hf_dir)


def test_tokenizer_larger_than_the_model_vocabulary(models: Path) -> None:
    hf_dir = make_tiny_llama(models, name="small-vocab", vocab_from_demo_tokenizer=False, vocab_size=1000)
    with pytest.raises(CheckpointError, match="tokenizer has 2000 tokens but the model's vocab_size is 1000"):
        load_checkpoint(hf_dir)
    padded = load_checkpoint(make_tiny_llama(models, name="padded", vocab_from_demo_tokenizer=False, vocab_size=2048))
    assert padded.state_dict["lm_head.weight"].shape[0] == 2048 and padded.tokenizer.vocab_size == 2000


def test_corrupt_weights_and_bad_paths(tiny: Path, tmp_path: Path) -> None:
    hf_dir = broken_copy(tiny, tmp_path)
    (hf_dir / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(CheckpointError, match=r"model\.safetensors: cannot read safetensors file"):
        load_checkpoint(hf_dir)
    (hf_dir / "model.safetensors").unlink()
    (hf_dir / "pytorch_model.bin").write_bytes(b"not a zip archive")
    with pytest.raises(CheckpointError, match=r"pytorch_model\.bin: cannot read PyTorch weights"):
        load_checkpoint(hf_dir)
    with pytest.raises(CheckpointError, match="no such file or directory"):
        load_checkpoint(tmp_path / "nowhere")
    with pytest.raises(CheckpointError, match="not a GGUF file"):
        load_checkpoint(hf_dir / "config.json")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("fmt", ["safetensors", "bin"])
def test_loads_straight_onto_the_gpu(models: Path, fmt: str) -> None:
    hf_dir = make_tiny_llama(models, name=f"gpu-{fmt}", fmt=fmt)  # type: ignore[arg-type]
    ckpt = load_checkpoint(hf_dir, dtype=torch.float16, device="cuda")
    reference = reference_state(hf_dir)
    for name, tensor in ckpt.state_dict.items():
        assert tensor.is_cuda and tensor.dtype == torch.float16
        assert torch.equal(tensor.cpu(), reference[name].half()), name
