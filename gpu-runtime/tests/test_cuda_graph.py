"""Decode-graph bookkeeping on CPU with EagerGraph (replay = recompute on the static buffers);
the real torch.cuda.CUDAGraph path runs the same comparisons when a GPU is present."""

from __future__ import annotations

import pytest
import torch
from helpers_engine import engine_for, hf_greedy, random_prompt, tiny_hf_llama
from test_engine_vs_hf import run_staggered

from leitai_runtime.config import EngineConfig
from leitai_runtime.cuda_graph import DecodeGraphRunner, EagerGraph, graph_batch_sizes
from leitai_runtime.engine import LLMEngine


class CountingGraph(EagerGraph):
    replays = 0

    def replay(self) -> None:
        CountingGraph.replays += 1
        super().replay()


@pytest.fixture(scope="module")
def hf_model():
    return tiny_hf_llama(seed=0)


def test_ladder_and_bucket_choice():
    assert graph_batch_sizes(1) == [1]
    assert graph_batch_sizes(20) == [1, 2, 4, 8, 16, 20]
    assert graph_batch_sizes(256)[-3:] == [192, 224, 256]
    runner = DecodeGraphRunner(lambda ids, meta: ids, [1, 2, 4, 8], 3, 4, 9, torch.device("cpu"), EagerGraph)
    assert [runner.bucket(n) for n in (1, 2, 3, 5, 8, 9)] == [1, 2, 4, 8, 8, None]
    with pytest.raises(ValueError, match="no captured graph"):
        runner.run([1], [0], [0], [[0]])  # nothing captured yet


def test_padding_rows_point_at_the_scratch_block():
    seen = {}

    def fn(ids, meta):
        seen.update(slots=meta.slot_mapping.clone(), tables=meta.block_tables.clone(), ctx=meta.context_lens.clone(),
                    positions=meta.positions.clone())
        return ids.float()[:, None] * 2

    runner = DecodeGraphRunner(fn, [1, 4], max_blocks=3, block_size=4, scratch_block=9,
                               device=torch.device("cpu"), make_graph=EagerGraph)
    runner.capture()
    # A 3-sequence step, then a 2-sequence one: the third row must be padding again.
    runner.run([1, 2, 3], [1, 2, 3], [1, 2, 3], [[5], [6], [7, 8]])
    assert seen["tables"][:, :2].tolist() == [[5, 0], [6, 0], [7, 8], [9, 0]]
    out = runner.run([7, 8], [5, 17], [5, 17], [[1, 0], [3, 4]])
    assert out.tolist() == [[14.0], [16.0]]
    assert seen["slots"].tolist() == [5, 17, 36, 36]
    assert seen["ctx"].tolist() == [6, 18, 1, 1] and seen["positions"].tolist() == [5, 17, 0, 0]
    # Padding rows attend to one key: only their first column matters (later ones may be stale).
    assert seen["tables"][:2, :2].tolist() == [[1, 0], [3, 4]] and seen["tables"][2:, 0].tolist() == [9, 9]
    assert runner.fits(4, 3) and not runner.fits(5, 3) and not runner.fits(4, 4)


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a GPU"))])
def test_graph_decode_matches_eager_and_hf(hf_model, device):
    gen = torch.Generator().manual_seed(4)
    requests = [(random_prompt(gen, 3 + 5 * k), 6 + k, k) for k in range(7)]
    eager = engine_for(hf_model, device=device, enforce_eager=True, max_num_seqs=8)
    graphed = engine_for(hf_model, device=device, max_num_seqs=8)
    if device == "cpu":
        CountingGraph.replays = 0
        graphed.runner.enable_decode_graphs(CountingGraph)
    assert graphed.runner.graphs is not None and eager.runner.graphs is None
    got = run_staggered(graphed, requests)
    assert got == run_staggered(eager, requests)
    for (prompt, max_tokens, _), tokens in zip(requests, got, strict=True):
        assert tokens == hf_greedy(hf_model, prompt, max_tokens)
    if device == "cpu":
        assert CountingGraph.replays > 10  # decode steps went through the graph runner


def test_scratch_block_is_outside_the_block_managers_pool(hf_model):
    engine = engine_for(hf_model, num_kv_blocks=20, max_model_len=64)
    assert engine.runner.scratch_block == engine.block_manager.num_free_blocks == 20
    assert engine.runner.kv_caches[0][0].shape[0] == 21


def test_one_token_prefill_chunks_do_not_take_the_graph_path(hf_model):
    # Budget 5 with 4 sequences decoding leaves 1 token for a prompt's chunk: every sequence
    # feeds one token, but the chunk samples nothing, so that step must run eagerly.
    gen = torch.Generator().manual_seed(8)
    engine = engine_for(hf_model, max_num_batched_tokens=5, max_num_seqs=8)
    engine.runner.enable_decode_graphs(CountingGraph)
    requests = [(random_prompt(gen, 4), 12, 0) for _ in range(4)] + [(random_prompt(gen, 9), 5, 2)]
    got = run_staggered(engine, requests)
    for (prompt, max_tokens, _), tokens in zip(requests, got, strict=True):
        assert tokens == hf_greedy(hf_model, prompt, max_tokens)


def test_runner_adopts_weights_without_a_copy(hf_model):
    weights = hf_model.state_dict()
    engine = LLMEngine(hf_model.config.to_dict(), weights, EngineConfig(num_kv_blocks=16, block_size=4))
    param = engine.runner.model.model.layers[0].mlp.up_proj.weight
    assert param.data_ptr() == weights["model.layers.0.mlp.up_proj.weight"].data_ptr()
