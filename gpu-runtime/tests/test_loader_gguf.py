"""Loading GGUF files: dequantization, the Q/K un-permutation, metadata, tokenizer, and errors."""

from __future__ import annotations

import re
from pathlib import Path

import gguf
import numpy as np
import pytest
import torch
from gguf.quants import dequantize
from helpers_kquant import quantize_q2_k, quantize_q3_k, quantize_q4_k, quantize_q5_k, quantize_q6_k
from helpers_model import dequantized_hf_dir, make_tiny_gguf, make_tiny_llama
from transformers import LlamaForCausalLM

from leitai_runtime.loader import CheckpointError, load_checkpoint
from leitai_runtime.loader.gguf import SUPPORTED_TYPES, _dequantized, unpermute_qk
from leitai_runtime.tokenizer import GGUFTokenizer

# By name; a dict, as mypy reads Enum[variable] as a type application.
Q = {t.name: t for t in gguf.GGMLQuantizationType}
# The quantization types of Chinese-LLaMA-2's llama.cpp table
LLAMA_CPP_TYPES = ["F16", "Q2_K", "Q3_K", "Q4_0", "Q4_1", "Q4_K", "Q5_0", "Q5_1", "Q5_K", "Q6_K", "Q8_0"]
# max |GGUF weight - original| for the tiny model's ~N(0, 0.1) weights (measured, plus headroom)
TOLERANCE = {
    "F32": 0.0, "F16": 2e-4, "Q8_0": 4e-3, "Q4_0": 6e-2, "Q4_1": 4e-2, "Q5_0": 3e-2, "Q5_1": 2e-2,
    "Q2_K": 2e-1, "Q3_K": 9e-2, "Q4_K": 6e-2, "Q5_K": 3e-2, "Q6_K": 1e-2,
}  # fmt: skip


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gguf")


@pytest.fixture(scope="module")
def tiny(models: Path) -> Path:
    return make_tiny_llama(models, name="tiny")


@pytest.fixture(scope="module")
def wide(models: Path) -> Path:
    """Rows of 256 and 512 values, so every 2-D tensor fits whole K-quant blocks."""
    return make_tiny_llama(models, name="wide", hidden_size=256, intermediate_size=512, num_heads=4, num_kv_heads=2)


def original(hf_dir: Path) -> dict[str, torch.Tensor]:
    return LlamaForCausalLM.from_pretrained(hf_dir, dtype=torch.float32).state_dict()


@pytest.mark.parametrize("qtype", ["F32", *LLAMA_CPP_TYPES])
def test_dequantized_weights_match_an_independent_decoder(models: Path, tiny: Path, wide: Path, qtype: str) -> None:
    hf_dir = wide if qtype.endswith("_K") else tiny
    gguf_path = make_tiny_gguf(models, hf_dir, qtype)  # type: ignore[arg-type]
    types = {t.name: t.tensor_type.name for t in gguf.GGUFReader(gguf_path).tensors}
    assert types["blk.0.attn_q.weight"] == types["blk.1.ffn_down.weight"] == qtype
    ckpt = load_checkpoint(gguf_path)
    reference = load_checkpoint(dequantized_hf_dir(models, gguf_path, hf_dir))
    weights = original(hf_dir)
    for name, tensor in ckpt.state_dict.items():
        assert torch.equal(tensor, reference.state_dict[name]), name
        assert (tensor - weights[name]).abs().max().item() <= TOLERANCE[qtype], name


def test_f32_gguf_gives_back_the_exact_weights_and_logits(models: Path, tiny: Path) -> None:
    """Exact equality proves the Q/K un-permutation (for GQA K too) undoes llama.cpp's."""
    ckpt = load_checkpoint(make_tiny_gguf(models, tiny, "F32"))
    weights = original(tiny)
    for name, tensor in weights.items():
        assert torch.equal(ckpt.state_dict[name], tensor), name
    model = LlamaForCausalLM.from_pretrained(tiny, dtype=torch.float32).eval()
    ids = torch.tensor([ckpt.tokenizer.encode("床前明月光", add_bos=True)])
    with torch.no_grad():
        expected = model(ids).logits
        model.load_state_dict(ckpt.state_dict)
        assert torch.equal(model(ids).logits, expected)


@pytest.mark.parametrize(("qtype", "dtype"), [("F32", torch.float32), ("F16", torch.float16)])
def test_unconverted_tensors_do_not_alias_the_read_only_file(models: Path, tiny: Path, qtype: str, dtype: torch.dtype) -> None:
    state = load_checkpoint(make_tiny_gguf(models, tiny, qtype), dtype=dtype).state_dict  # type: ignore[arg-type]
    for tensor in state.values():
        tensor.mul_(1)  # would crash on a view of the read-only memory map


def test_unpermute_inverts_llama_cpp_permute() -> None:
    w = torch.arange(8 * 16 * 3, dtype=torch.float32).reshape(8 * 16, 3)
    for n_head in (1, 2, 8):
        permuted = w.reshape(n_head, 2, w.shape[0] // n_head // 2, 3).swapaxes(1, 2).reshape(w.shape)
        assert not torch.equal(permuted, w)
        assert torch.equal(unpermute_qk(permuted, n_head), w)


@pytest.mark.parametrize(
    "quantize, qtype, bound",
    [
        (quantize_q2_k, "Q2_K", 1.0), (quantize_q3_k, "Q3_K", 0.5), (quantize_q4_k, "Q4_K", 0.3),
        (quantize_q5_k, "Q5_K", 0.3), (quantize_q6_k, "Q6_K", 0.3),
    ],
)  # fmt: skip
def test_k_quant_decoder_matches_hand_built_blocks(quantize, qtype, bound) -> None:  # type: ignore[no-untyped-def]
    """gguf-py cannot encode K-quants; blocks packed from ggml's layout check the decoder instead."""
    x = np.random.default_rng(7).standard_normal((4, 512)).astype(np.float32)
    packed, expected = quantize(x)
    assert packed.shape == (4, 2 * gguf.GGML_QUANT_SIZES[Q[qtype]][1])
    np.testing.assert_array_equal(dequantize(packed, Q[qtype]), expected)
    assert np.abs(expected - x).max() < bound  # N(0, 1) values: 2-bit blocks of 16 are coarse


# Byte offsets of the f16 fields (d, dmin, m) inside one block, from ggml's block_* structs
_F16_FIELDS = {
    "Q4_0": (0,), "Q4_1": (0, 2), "Q5_0": (0,), "Q5_1": (0, 2), "Q8_0": (0,), "Q2_K": (80, 82),
    "Q3_K": (108,), "Q4_K": (0, 2), "Q5_K": (0, 2), "Q6_K": (208,),
}  # fmt: skip


def random_blocks(qtype: str, rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    """Arbitrary valid bytes of `qtype`: random quants and scale bits, finite f16 fields."""
    block, size = gguf.GGML_QUANT_SIZES[Q[qtype]]
    values = rng.standard_normal((rows, cols)).astype(np.float32)
    if qtype in ("F32", "F16"):
        return values.astype(np.float32 if qtype == "F32" else np.float16).view(np.uint8)
    if qtype == "BF16":
        return (values.view(np.uint32) >> 16).astype(np.uint16).view(np.uint8)  # bf16: top half of f32
    raw = rng.integers(0, 256, (rows, cols // block, size), dtype=np.uint8)
    for offset in _F16_FIELDS[qtype]:
        scale = rng.uniform(-0.05, 0.05, (rows, cols // block, 1)).astype(np.float16)
        raw[:, :, offset : offset + 2] = scale.view(np.uint8)
    return raw.reshape(rows, -1)


@pytest.mark.parametrize("qtype", [t.name for t in SUPPORTED_TYPES])
def test_loader_decodes_arbitrary_blocks_like_gguf_py(tmp_path: Path, qtype: str) -> None:
    """Bit patterns no quantizer would write (random scale and quant bits) decode exactly as
    gguf-py's own dequantize does."""
    assert set(LLAMA_CPP_TYPES) | {"F32", "BF16"} == {t.name for t in SUPPORTED_TYPES}
    raw = random_blocks(qtype, 3, 512, np.random.default_rng(sum(map(ord, qtype))))
    path = tmp_path / f"{qtype}.gguf"
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_tensor("w", raw, raw_dtype=Q[qtype])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    (tensor,) = gguf.GGUFReader(path).tensors
    assert tensor.tensor_type == Q[qtype]
    got = _dequantized(tensor.data, tensor.tensor_type).float().reshape(3, 512)
    expected = torch.from_numpy(np.ascontiguousarray(dequantize(raw, Q[qtype]), dtype=np.float32))
    assert 0 < expected.abs().max() < 256  # |d| <= 0.05 bounds every type; a misplaced d would not
    assert torch.equal(got.view(torch.int32), expected.view(torch.int32))


def test_other_types_llama_cpp_mixes_in(models: Path, tiny: Path) -> None:
    kinds = {"attn_q": "BF16", "attn_k": "Q5_0", "ffn_up": "Q5_1", "ffn_down": "Q4_1"}
    types = {f"blk.{i}.{name}.weight": kind for i in range(2) for name, kind in kinds.items()}
    gguf_path = make_tiny_gguf(models, tiny, "Q8_0", name="mixed.gguf", tensor_types=types)
    ckpt = load_checkpoint(gguf_path)
    reference = load_checkpoint(dequantized_hf_dir(models, gguf_path, tiny))
    for name, tensor in ckpt.state_dict.items():
        assert torch.equal(tensor, reference.state_dict[name]), name


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_dequantized_into_the_serving_dtype(models: Path, tiny: Path, dtype: torch.dtype) -> None:
    ckpt = load_checkpoint(make_tiny_gguf(models, tiny, "Q8_0"), dtype=dtype)
    assert {t.dtype for t in ckpt.state_dict.values()} == {dtype}


def test_metadata_becomes_an_hf_config(models: Path, tiny: Path) -> None:
    config = load_checkpoint(make_tiny_gguf(models, tiny, "F16")).hf_config
    assert config["architectures"] == ["LlamaForCausalLM"]
    expected = {
        "vocab_size": 2000, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "max_position_embeddings": 512,
        "rope_theta": 10000.0, "rope_scaling": None, "tie_word_embeddings": False, "bos_token_id": 1,
        "eos_token_id": 2,
    }  # fmt: skip
    assert {k: config[k] for k in expected} == expected
    assert config["rms_norm_eps"] == pytest.approx(1e-5)


@pytest.mark.parametrize(
    "scaling",
    [{"type": "linear", "factor": 4.0}, {"rope_type": "yarn", "factor": 8.0, "original_max_position_embeddings": 64}],
)
def test_rope_scaling_keys_map_to_hf_rope_scaling(models: Path, scaling: dict) -> None:
    kind = scaling.get("type", scaling.get("rope_type"))
    hf_dir = make_tiny_llama(models, name=f"rope-{kind}", rope_scaling=scaling)
    config = load_checkpoint(make_tiny_gguf(models, hf_dir, "F16")).hf_config
    assert config["rope_scaling"]["rope_type"] == config["rope_scaling"]["type"] == kind
    assert config["rope_scaling"]["factor"] == pytest.approx(scaling["factor"])
    if kind == "yarn":
        assert config["rope_scaling"]["original_max_position_embeddings"] == 64


def test_tied_embeddings_without_an_output_tensor(models: Path) -> None:
    hf_dir = make_tiny_llama(models, name="tied", tie_word_embeddings=True)
    gguf_path = make_tiny_gguf(models, hf_dir, "F32")
    assert "output.weight" not in {t.name for t in gguf.GGUFReader(gguf_path).tensors}
    ckpt = load_checkpoint(gguf_path)
    assert ckpt.hf_config["tie_word_embeddings"] is True
    assert ckpt.state_dict["lm_head.weight"] is ckpt.state_dict["model.embed_tokens.weight"]


def test_tokenizer_from_metadata_matches_tokenizer_model(models: Path, tiny: Path) -> None:
    gguf_tok = load_checkpoint(make_tiny_gguf(models, tiny, "Q8_0")).tokenizer
    sp_tok = load_checkpoint(tiny).tokenizer
    assert isinstance(gguf_tok, GGUFTokenizer)
    assert (gguf_tok.vocab_size, gguf_tok.bos_id, gguf_tok.eos_id) == (sp_tok.vocab_size, 1, 2)
    for text in ["你是一个乐于助人的助手。", " hello  world\n", "龘😀 2023"]:
        assert gguf_tok.encode(text) == sp_tok.encode(text)


def test_a_directory_holding_one_gguf_loads_it(models: Path, tiny: Path, tmp_path: Path) -> None:
    make_tiny_gguf(tmp_path, tiny, "F16", name="model.gguf")
    assert load_checkpoint(tmp_path).source == tmp_path / "model.gguf"


# --- errors ----------------------------------------------------------------------------------


def test_unsupported_architecture(models: Path, tiny: Path) -> None:
    path = make_tiny_gguf(models, tiny, "F16", name="mistral.gguf", arch="mistral")
    with pytest.raises(CheckpointError, match=r"mistral\.gguf: unsupported architecture 'mistral'"):
        load_checkpoint(path)


@pytest.mark.parametrize(
    ("metadata", "named"),
    [
        ({"llama.expert_count": 8, "llama.expert_used_count": 2}, r"llama\.expert_count = 8"),
        ({"llama.attention.sliding_window": 128}, r"llama\.attention\.sliding_window = 128"),
        ({"llama.final_logit_softcapping": 30.0}, r"llama\.final_logit_softcapping = 30\.0"),
        ({"llama.attention.value_length": 8}, r"llama\.attention\.value_length = 8"),
    ],
    ids=["experts", "sliding-window", "softcapping", "value-length"],
)
def test_unsupported_metadata_is_refused_by_name(models: Path, tiny: Path, metadata: dict, named: str) -> None:
    path = make_tiny_gguf(models, tiny, "F16", name=f"{named[:12]}.gguf", extra_metadata=metadata)
    with pytest.raises(CheckpointError, match=r"\.gguf: " + named + " is not supported"):
        load_checkpoint(path)


def test_partial_rotary_is_refused(models: Path, tiny: Path) -> None:
    path = make_tiny_gguf(models, tiny, "F16", name="partial-rope.gguf", config_overrides={"head_dim": 8})
    with pytest.raises(CheckpointError, match=r"llama\.rope\.dimension_count = 8 is not supported"):
        load_checkpoint(path)


@pytest.mark.parametrize(
    ("tensor", "shape"),
    [("blk.0.attn_q.bias", (64,)), ("blk.1.ffn_gate_exps.weight", (2, 128, 64)), ("rope_freqs.weight", (8,))],
    ids=["llama-bias", "experts", "llama3-rope-factors"],
)
def test_tensors_the_model_would_leave_unused_are_refused(models: Path, tiny: Path, tensor: str, shape: tuple) -> None:
    path = make_tiny_gguf(models, tiny, "F16", name=f"extra-{tensor}.gguf", extra_tensors={tensor: np.ones(shape)})
    with pytest.raises(CheckpointError, match=rf"tensor {re.escape(tensor)}.* not supported|unexpected tensor {re.escape(tensor)}"):
        load_checkpoint(path)


@pytest.mark.parametrize("kind", ["IQ4_NL", "TQ1_0"])
def test_unsupported_quantization_type(models: Path, tiny: Path, wide: Path, kind: str) -> None:
    hf_dir = tiny if gguf.GGML_QUANT_SIZES[Q[kind]][0] == 32 else wide  # else rows fall back to Q8_0
    name = "blk.0.ffn_up.weight"
    path = make_tiny_gguf(models, hf_dir, "F16", name=f"{kind}.gguf", tensor_types={name: kind})
    assert {t.name: t.tensor_type.name for t in gguf.GGUFReader(path).tensors}[name] == kind
    message = rf"{kind}\.gguf: tensor blk\.0\.ffn_up\.weight uses unsupported quantization type {kind} "
    with pytest.raises(CheckpointError, match=message) as err:
        load_checkpoint(path)
    supported = str(err.value).rsplit("(supported: ", 1)[1].rstrip(")").split(", ")
    assert sorted(supported) == sorted(["F32", "BF16", *LLAMA_CPP_TYPES])


def test_missing_tensor(models: Path, tiny: Path) -> None:
    path = make_tiny_gguf(models, tiny, "F16", name="partial.gguf", drop_tensors=("blk.1.attn_v.weight",))
    with pytest.raises(CheckpointError, match=r"partial\.gguf: missing tensor model\.layers\.1\.self_attn\.v_proj\.weight"):
        load_checkpoint(path)


def test_wrong_shape(models: Path, tiny: Path) -> None:
    path = make_tiny_gguf(models, tiny, "F16", name="wrong.gguf", config_overrides={"intermediate_size": 96})
    with pytest.raises(CheckpointError, match=r"wrong\.gguf: tensor blk\.0\.ffn_gate\.weight has shape \[128, 64\], expected \[96, 64\]"):
        load_checkpoint(path)


def test_non_llama_tokenizer_and_corrupt_file(models: Path, tiny: Path, tmp_path: Path) -> None:
    path = make_tiny_gguf(models, tiny, "F16", name="berttok.gguf", tokenizer_model="bert")
    with pytest.raises(CheckpointError, match="unsupported tokenizer model 'bert'"):
        load_checkpoint(path)
    # a "gpt2" (byte-level BPE) vocabulary must bring its merges
    no_merges = make_tiny_gguf(models, tiny, "F16", name="gpt2tok.gguf", tokenizer_model="gpt2")
    with pytest.raises(CheckpointError, match="tokenizer.ggml.merges is missing"):
        load_checkpoint(no_merges)
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(b"GGUF" + b"\xff" * 64)
    with pytest.raises(CheckpointError, match=r"corrupt\.gguf: not a readable GGUF file"):
        load_checkpoint(corrupt)
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=r"truncated\.gguf: "):
        load_checkpoint(truncated)


def test_a_directory_with_several_ggufs_is_ambiguous(tiny: Path, tmp_path: Path) -> None:
    make_tiny_gguf(tmp_path, tiny, "F16", name="a.gguf")
    make_tiny_gguf(tmp_path, tiny, "Q8_0", name="b.gguf")
    with pytest.raises(CheckpointError, match=r"holds several GGUF files \(a\.gguf, b\.gguf\)"):
        load_checkpoint(tmp_path)


def test_padded_vocabulary_and_unused_pad_tokens(models: Path) -> None:
    hf_dir = make_tiny_llama(models, name="padded", vocab_from_demo_tokenizer=False, vocab_size=2048)
    sp_tok = load_checkpoint(hf_dir).tokenizer
    ckpt = load_checkpoint(make_tiny_gguf(models, hf_dir, "Q8_0"))
    assert ckpt.tokenizer.vocab_size == ckpt.hf_config["vocab_size"] == 2048
    assert ckpt.tokenizer.id_to_piece(2047) == "[PAD2047]"
    for text in ["[PAD2047] is text", "你好 world"]:
        assert ckpt.tokenizer.encode(text) == sp_tok.encode(text)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gguf_dequantizes_onto_the_gpu(models: Path, tiny: Path) -> None:
    gguf_path = make_tiny_gguf(models, tiny, "Q8_0")
    on_gpu = load_checkpoint(gguf_path, dtype=torch.bfloat16, device="cuda").state_dict
    on_cpu = load_checkpoint(gguf_path, dtype=torch.bfloat16).state_dict
    for name, tensor in on_gpu.items():
        assert tensor.is_cuda and torch.equal(tensor.cpu(), on_cpu[name]), name
