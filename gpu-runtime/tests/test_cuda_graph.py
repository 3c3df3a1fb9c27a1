"""Decode-graph bookkeeping on CPU with EagerGraph (replay = recompute on the static buffers);
the real torch.cuda.CUDAGraph path runs the same comparisons when a GPU is present."""

from __future__ import annotations

import pytest
import torch
from helpers_engine import engine_for, hf_greedy, random_prompt, tiny_hf_llama
from test_engine_vs_hf import run_staggered

from leitai_runtime.cuda_graph import DecodeGraphRunner, EagerGraph, graph_batch_sizes


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


def test_padding_rows_point_at_the_scratch_block():
    seen = {}

    def fn(ids, meta):
        seen.update(slots=meta.slot_mapping.clone(), tables=meta.block_tables.clone(), ctx=meta.context_lens.clone())
        return ids.float()[:, None] * 2

    runner = DecodeGraphRunner(fn, [1, 4], max_blocks=3, block_size=4, scratch_block=9,
                               device=torch.device("cpu"), make_graph=EagerGraph)
    runner.capture()
    engine_meta = runner.static_meta(4)  # a real 2-sequence decode step, built like prepare() does
    engine_meta.slot_mapping = torch.tensor([5, 17])
    engine_meta.block_tables = torch.tensor([[1, 0], [3, 4]], dtype=torch.int32)
    engine_meta.context_lens = torch.tensor([6, 18], dtype=torch.int32)
    engine_meta.positions = torch.tensor([5, 17])
    out = runner.run(torch.tensor([7, 8]), engine_meta)
    assert out.tolist() == [[14.0], [16.0]]
    assert seen["slots"].tolist() == [5, 17, 36, 36]
    assert seen["ctx"].tolist() == [6, 18, 1, 1]
    assert seen["tables"][:, :2].tolist() == [[1, 0], [3, 4], [9, 0], [9, 0]]


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
