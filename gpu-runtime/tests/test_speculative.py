"""Speculative decoding with a draft model: greedy output identical to the target alone and to
transformers (staggered requests, chunked prefill, preemption, prefix caching), sampled output
distributed as the target's, every block returned after aborts, stops inside an accepted run,
metrics, fallback, and the CLI's checks."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import httpx
import pytest
import torch
from helpers_engine import engine_for, greedy, hf_greedy, random_prompt, tiny_hf_llama
from helpers_server import ServerThread
from helpers_speculative import (
    ALWAYS,
    damp_checkpoint,
    random_draft,
    speculative_engine,
    speculative_target,
    truncated_draft,
    write_truncated_copy,
)
from safetensors.torch import load_file, save_file
from test_engine_vs_hf import run_staggered

from leitai_runtime.__main__ import draft_specs, main
from leitai_runtime.config import ConfigError, EngineConfig, SpeculativeConfig
from leitai_runtime.demo import write_demo_model
from leitai_runtime.engine import LLMEngine
from leitai_runtime.metrics import Metrics
from leitai_runtime.scheduler import ScheduledBatch
from leitai_runtime.sequence import SamplingParams
from leitai_runtime.server import ServedModel, create_app
from leitai_runtime.speculative import DraftError, DraftModel, StepTimer, check_tokenizers
from leitai_runtime.tokenizer import SentencePieceTokenizer


@pytest.fixture(scope="module")
def target():
    return speculative_target()


DRAFTS = {"truncated": truncated_draft, "random": lambda _target: random_draft()}


def all_blocks_free(engine: LLMEngine) -> bool:
    bm = engine.block_manager
    return bm.num_free_blocks == bm.num_blocks and all(b.ref_count == 0 for b in bm.blocks)


def record_runs(engine: LLMEngine) -> dict[int, list[list[int]]]:
    """Each sequence's speculative runs (tokens gained per step, before stop checks)."""
    assert engine.speculator is not None
    spec = engine.speculator
    runs: dict[int, list[list[int]]] = {}
    step = spec.step

    def recording(batch: ScheduledBatch, ks: list[int], sampler) -> list[list[int]]:
        out = step(batch, ks, sampler)
        for seq, k, run in zip(batch.seqs, ks, out, strict=True):
            if k:
                runs.setdefault(seq.seq_id, []).append(run)
        return out

    spec.step = recording  # type: ignore[method-assign]
    return runs


# -- greedy: the target's own tokens ----------------------------------------------------------


@pytest.mark.parametrize("kind", DRAFTS)
def test_staggered_requests_with_chunked_prefill_match_the_target_and_hf(target, kind):
    rng = random.Random(7)
    gen = torch.Generator().manual_seed(7)
    requests = [(random_prompt(gen, rng.randint(1, 40)), rng.randint(1, 24), rng.randint(0, 12)) for _ in range(18)]
    assert any(len(p) > 32 for p, _, _ in requests)  # some prompts are prefilled in chunks
    engine = speculative_engine(target, DRAFTS[kind](target), max_num_batched_tokens=32)
    got = run_staggered(engine, requests)
    assert got == run_staggered(engine_for(target, max_num_batched_tokens=32), requests)
    for (prompt, max_tokens, _), tokens in zip(requests, got, strict=True):
        assert tokens == hf_greedy(target, prompt, max_tokens)
    stats = engine.stats().speculative
    assert stats is not None and stats.sequence_steps > 20
    if kind == "truncated":  # proposals both kept and rejected
        assert 0 < stats.accepted_tokens < stats.proposed_tokens
    assert all_blocks_free(engine)


@pytest.mark.parametrize("prefix_caching", [False, True])
def test_preemption_under_a_tiny_kv_pool_matches_hf(target, prefix_caching):
    gen = torch.Generator().manual_seed(3)
    requests = [(random_prompt(gen, 10 + 3 * k), 20, k % 3) for k in range(8)]
    engine = speculative_engine(target, truncated_draft(target), num_kv_blocks=20, max_model_len=64,
                                enable_prefix_caching=prefix_caching)
    got = run_staggered(engine, requests)
    assert engine.stats().num_preemptions > 0
    assert engine.stats().speculative.accepted_tokens > 0  # type: ignore[union-attr]
    for (prompt, max_tokens, _), tokens in zip(requests, got, strict=True):
        assert tokens == hf_greedy(target, prompt, max_tokens)
    assert all_blocks_free(engine)


def test_shared_prompt_prefixes_hit_the_cache_and_match_hf(target):
    gen = torch.Generator().manual_seed(5)
    shared = random_prompt(gen, 21)
    prompts = [shared, shared + random_prompt(gen, 6), shared, shared[:13]]
    engine = speculative_engine(target, truncated_draft(target))
    first = engine.generate([prompts[0]], greedy(10))
    rest = engine.generate(prompts[1:], greedy(10))
    assert engine.stats().prefix_cache_hit_blocks > 0
    for prompt, tokens in zip(prompts, first + rest, strict=True):
        assert tokens == hf_greedy(target, prompt, 10)


def test_a_prompt_is_cached_for_both_models_once_prefilled(target):
    """The draft runs prefill chunks with the target, so a prompt's blocks are published at once."""
    gen = torch.Generator().manual_seed(6)
    prompt = random_prompt(gen, 17)
    engine = speculative_engine(target, truncated_draft(target))
    first = engine.add_request(prompt, greedy(8))
    prefill = engine.step()  # the prefill, which also samples the first token
    second = engine.add_request(prompt + [5, 6], greedy(8))
    out: dict[int, list[int]] = {first: [], second: []}
    for o in prefill:
        out[o.seq_id].extend(o.new_token_ids)
    while engine.has_unfinished():
        for o in engine.step():
            out[o.seq_id].extend(o.new_token_ids)
    assert engine.block_manager.prefix_hit_blocks == 4
    assert out[first] == hf_greedy(target, prompt, 8) and out[second] == hf_greedy(target, prompt + [5, 6], 8)


def test_cached_blocks_hold_the_drafts_kv_too(target):
    """A request whose prompt repeats another's prompt and answer reuses the answer's blocks for
    both models: its draft proposes exactly what it proposes with no cache at all."""
    gen = torch.Generator().manual_seed(21)
    prompt = random_prompt(gen, 10)
    engine = speculative_engine(target, truncated_draft(target))
    answer = engine.generate([prompt], greedy(30))[0]
    follow = prompt + answer[:10]
    before = engine.stats()
    assert engine.generate([follow], greedy(8))[0] == hf_greedy(target, follow, 8)
    after = engine.stats()
    assert after.prefix_cache_hit_blocks - before.prefix_cache_hit_blocks == 4  # 16 of its 20 tokens
    fresh = speculative_engine(target, truncated_draft(target))
    assert fresh.generate([follow], greedy(8))[0] == hf_greedy(target, follow, 8)
    kept = after.speculative.accepted_tokens - before.speculative.accepted_tokens  # type: ignore[union-attr]
    assert kept == fresh.stats().speculative.accepted_tokens  # type: ignore[union-attr]


def test_blocks_the_draft_lacks_stay_out_of_the_prefix_cache(target):
    """Decoding plainly (here: speculation never pays), the draft skips decode steps: the answer's
    blocks hold no draft K/V, so a follow-up reuses only the prompt's blocks."""
    gen = torch.Generator().manual_seed(21)
    prompt = random_prompt(gen, 12)
    never = SpeculativeConfig(num_speculative_tokens=3, min_tokens_per_step=10.0, probe_interval=1000)
    engine = speculative_engine(target, truncated_draft(target, never))
    answer = engine.generate([prompt], greedy(30))[0]
    assert engine.stats().speculative.fallback_steps["low_acceptance"] > 20  # type: ignore[union-attr]
    follow = prompt + answer[:10]
    hits = engine.block_manager.prefix_hit_blocks
    assert engine.generate([follow], greedy(8))[0] == hf_greedy(target, follow, 8)
    assert engine.block_manager.prefix_hit_blocks - hits == 3  # the prompt's 12 tokens, none of the answer


# -- sampling: the target's distribution ------------------------------------------------------


def exact_distribution(hf, prompt: list[int], length: int, temperature: float, top_k: int
                       ) -> dict[tuple[int, ...], float]:
    """transformers' probability of every `length`-token continuation under temperature and top-k."""
    cells: dict[tuple[int, ...], float] = {(): 1.0}
    for _ in range(length):
        grown: dict[tuple[int, ...], float] = {}
        for cont, prob in cells.items():
            with torch.no_grad():
                logits = hf(torch.tensor([prompt + list(cont)])).logits[0, -1].double() / temperature
            top = torch.topk(logits, top_k)
            for token, p in zip(top.indices.tolist(), torch.softmax(top.values, -1).tolist(), strict=True):
                grown[cont + (token,)] = prob * p
        cells = grown
    return cells


def chi_squared_p_value(counts: dict[tuple[int, ...], int], probs: dict[tuple[int, ...], float]) -> float:
    n = sum(counts.values())
    assert set(counts) <= set(probs)  # nothing outside the top-k support
    assert min(probs.values()) * n >= 5  # every cell well populated
    stat = sum((counts.get(c, 0) - n * p) ** 2 / (n * p) for c, p in probs.items())
    df = torch.tensor((len(probs) - 1) / 2, dtype=torch.float64)
    return float(torch.special.gammaincc(df, torch.tensor(stat / 2, dtype=torch.float64)))


@pytest.mark.parametrize("kind", DRAFTS)
def test_sampled_continuations_follow_the_targets_distribution(target, kind):
    """2000 seeded 4-token continuations (top-k 2: 16 possible) against transformers' exact
    probabilities. The truncated draft is mostly kept (the acceptance test and bonus draws
    matter), the random one mostly rejected (the residual draws matter)."""
    prompt = random_prompt(torch.Generator().manual_seed(4), 6)
    n, temperature, top_k = 2000, 1.0, 2
    engine = speculative_engine(target, DRAFTS[kind](target), num_kv_blocks=512, max_num_batched_tokens=512,
                                max_num_seqs=32, max_waiting=n)
    params = [SamplingParams(temperature=temperature, top_k=top_k, seed=s, max_tokens=4, ignore_eos=True)
              for s in range(n)]
    outputs = engine.generate([prompt] * n, params)
    counts: dict[tuple[int, ...], int] = {}
    for tokens in outputs:
        counts[tuple(tokens)] = counts.get(tuple(tokens), 0) + 1
    assert chi_squared_p_value(counts, exact_distribution(target, prompt, 4, temperature, top_k)) > 1e-3
    stats = engine.stats().speculative
    assert stats is not None and stats.sequence_steps >= n and stats.acceptance_rate is not None
    if kind == "truncated":
        assert 0.5 < stats.acceptance_rate < 1
    else:
        assert stats.acceptance_rate < 0.1
    # A seed gives the same tokens whatever else is in the batch.
    alone = speculative_engine(target, DRAFTS[kind](target))
    assert alone.generate([prompt] * 3, params[:3]) == outputs[:3]


# -- lifecycle ------------------------------------------------------------------------------


def test_random_aborts_return_every_block(target):
    rng = random.Random(13)
    gen = torch.Generator().manual_seed(13)
    engine = speculative_engine(target, truncated_draft(target), num_kv_blocks=40, max_model_len=64,
                                max_num_batched_tokens=32)
    prompts = [random_prompt(gen, rng.randint(3, 30)) for _ in range(16)]
    params = [greedy(24) if k % 2 else SamplingParams(temperature=0.8, top_k=20, max_tokens=24, seed=k)
              for k in range(16)]
    ids = [engine.add_request(p, sp) for p, sp in zip(prompts, params, strict=True)]
    out: dict[int, list[int]] = {i: [] for i in ids}
    reasons: dict[int, str | None] = {}
    step = 0
    while engine.has_unfinished():
        if step % 3 == 1:
            engine.abort(rng.choice(ids))
        for o in engine.step():
            out[o.seq_id].extend(o.new_token_ids)
            if o.finished:
                reasons[o.seq_id] = o.finish_reason
        step += 1
    aborted = [i for i in ids if reasons[i] == "abort"]
    assert 3 <= len(aborted) < len(ids)
    assert engine.stats().speculative.sequence_steps > 0  # type: ignore[union-attr]
    for k, seq_id in enumerate(ids):
        if k % 2:  # greedy: what it produced is transformers' answer, or its beginning when aborted
            full = hf_greedy(target, prompts[k], 24)
            assert out[seq_id] == (full[:len(out[seq_id])] if seq_id in aborted else full)
    assert all_blocks_free(engine)


def test_blocks_of_rejected_proposals_go_back_to_the_pool_at_once(target):
    """Each step takes slots for k + 1 tokens per sequence; after verification a decoding sequence
    holds just the blocks its computed tokens fill."""
    gen = torch.Generator().manual_seed(14)
    engine = speculative_engine(target, random_draft(), enable_prefix_caching=False)
    bm = engine.block_manager
    for k in range(4):
        engine.add_request(random_prompt(gen, 5 + k), greedy(20))
    checked = 0
    while engine.has_unfinished():
        engine.step()
        for seq in engine.scheduler.running:
            if seq.num_computed_tokens == len(seq) - 1:  # decoding (not mid-prompt)
                assert len(seq.block_table) == bm.blocks_needed(seq.num_computed_tokens)
                checked += 1
        assert bm.num_used_blocks == sum(len(s.block_table) for s in engine.scheduler.running)
    stats = engine.stats().speculative
    assert checked > 20 and stats is not None and stats.proposed_tokens > stats.accepted_tokens
    assert all_blocks_free(engine)


def mid_run_tokens(runs: dict[int, list[list[int]]]) -> list[tuple[int, int]]:
    """(sequence, index in its output) of every token a run gained with more after it."""
    found = []
    for seq_id, seq_runs in runs.items():
        emitted = 1  # the first token came from the prefill step
        for run in seq_runs:
            found += [(seq_id, emitted + i) for i in range(len(run) - 1)]
            emitted += len(run)
    return found


@pytest.mark.parametrize("how", ["stop_token_ids", "eos"])
def test_a_stop_inside_an_accepted_run_drops_the_tokens_after_it(target, how):
    gen = torch.Generator().manual_seed(17)
    prompts = [random_prompt(gen, 5 + 4 * k) for k in range(4)]
    engine = speculative_engine(target, truncated_draft(target))
    runs = record_runs(engine)
    ids = [engine.add_request(p, greedy(20)) for p in prompts]
    full: dict[int, list[int]] = {i: [] for i in ids}
    while engine.has_unfinished():
        for o in engine.step():
            full[o.seq_id].extend(o.new_token_ids)
    # A token that first appears in the middle of a run.
    seq_id, index = next((s, i) for s, i in mid_run_tokens(runs) if full[s][i] not in full[s][:i])
    stop = full[seq_id][index]
    prompt = prompts[ids.index(seq_id)]
    if how == "eos":
        config = {**target.config.to_dict(), "eos_token_id": stop}
        engine = speculative_engine(target, truncated_draft(target), hf_config=config)
        params = greedy(20)
        with torch.no_grad():
            ref = target.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                                  max_new_tokens=20, do_sample=False, eos_token_id=stop, pad_token_id=0)
        assert ref[0, len(prompt):].tolist() == full[seq_id][:index + 1]
    else:
        engine = speculative_engine(target, truncated_draft(target))
        params = SamplingParams(temperature=0.0, max_tokens=20, stop_token_ids=(stop,))
    runs = record_runs(engine)
    new_id = engine.add_request(prompt, params)
    tokens: list[int] = []
    reason = None
    while engine.has_unfinished():
        for o in engine.step():
            tokens.extend(o.new_token_ids)
            reason = o.finish_reason
    assert tokens == full[seq_id][:index + 1] and reason == "stop"
    assert sum(len(r) for r in runs[new_id]) + 1 > len(tokens)  # the last run went on past the stop
    assert engine.stats().num_running == 0 and all_blocks_free(engine)


# -- checkpoints with tokenizers: stop strings, the server, the CLI ---------------------------


@pytest.fixture(scope="module")
def demo_dirs(tmp_path_factory):
    """A 4-layer demo checkpoint (SentencePiece tokenizer) and its first two layers as a draft."""
    root = tmp_path_factory.mktemp("spec")
    target_dir = write_demo_model(root / "target", seed=5, name="target", layers=4)
    damp_checkpoint(target_dir)
    return target_dir, write_truncated_copy(target_dir, root / "draft", 2)


def test_a_stop_string_inside_an_accepted_run(demo_dirs):
    target_dir, draft_dir = demo_dirs
    config = EngineConfig(block_size=16, num_kv_blocks=64)
    plain = LLMEngine.from_path(target_dir, config)
    spec = LLMEngine.from_path(target_dir, config, draft_dir, ALWAYS)
    assert plain.tokenizer is not None
    prompt = plain.tokenizer.encode("从前有一座山", add_bos=True)
    runs = record_runs(spec)
    full = spec.generate([prompt], greedy(24))[0]
    assert full == plain.generate([prompt], greedy(24))[0]
    text = plain.tokenizer.decode(full)

    def piece_at(i: int) -> tuple[str, int]:
        """The text token i adds, and where it starts."""
        before = plain.tokenizer.decode(full[:i])  # type: ignore[union-attr]
        return plain.tokenizer.decode(full[:i + 1])[len(before):], len(before)  # type: ignore[union-attr]

    # A stop string first written by a token in the middle of a run.
    stop = next(piece for piece, start in (piece_at(i) for _, i in mid_run_tokens(runs))
                if piece.strip() and text.find(piece) == start)

    def answer(engine: LLMEngine) -> tuple[list[int], str, str | None]:
        engine.add_request(prompt, SamplingParams(temperature=0.0, max_tokens=24, stop=(stop,)))
        ids, parts, reason = [], [], None
        while engine.has_unfinished():
            for o in engine.step():
                ids.extend(o.new_token_ids)
                parts.append(o.new_text)
                reason = o.finish_reason
        return ids, "".join(parts), reason

    runs.clear()
    got = answer(spec)
    assert got == answer(plain)
    assert got[2] == "stop" and got[1] == text[:text.index(stop)]
    assert sum(len(r) for r in next(iter(runs.values()))) + 1 > len(got[0])  # cut inside a run


def test_server_reports_speculation_in_models_and_metrics(demo_dirs):
    target_dir, draft_dir = demo_dirs
    config = EngineConfig(block_size=16, num_kv_blocks=64)
    app = create_app([ServedModel("spec", LLMEngine.from_path(target_dir, config, draft_dir, ALWAYS), "plain"),
                      ServedModel("plain", LLMEngine.from_path(target_dir, config), "plain")])
    with ServerThread(app) as srv, httpx.Client(base_url=srv.url, timeout=30) as client:
        for model in ("spec", "plain"):
            r = client.post("/v1/completions", json={"model": model, "prompt": "从前有一座山", "max_tokens": 16,
                                                     "temperature": 0})
            assert r.status_code == 200
        cards = {m["id"]: m for m in client.get("/v1/models").json()["data"]}
        metrics = client.get("/metrics").text
    assert "speculative" not in cards["plain"]
    card = cards["spec"]["speculative"]
    assert card["draft"] == "draft" and card["num_speculative_tokens"] == 3 and card["active"] is True
    assert 0 < card["acceptance_rate"] <= 1

    def value(name: str, labels: str = 'model="spec"') -> float:
        m = re.search(rf"^{name}{{{labels}}} (\S+)$", metrics, re.M)
        assert m, f"{name}{{{labels}}} not in /metrics"
        return float(m.group(1))

    proposed, kept = value("leitai_spec_proposed_tokens_total"), value("leitai_spec_accepted_tokens_total")
    assert proposed > 0 and value("leitai_spec_acceptance_rate") == pytest.approx(kept / proposed)
    assert value("leitai_spec_sequence_steps_total") > 0 and value("leitai_spec_active") == 1
    assert 1 <= value("leitai_spec_accepted_tokens_per_step") <= 4
    assert value("leitai_spec_fallback_steps_total", 'model="spec",reason="large_batch"') == 0
    assert 'model="plain"' not in "".join(line for line in metrics.splitlines() if "leitai_spec_" in line)


def test_draft_specs_parse_and_explain_mistakes(tmp_path):
    draft = tmp_path / "d"
    draft.mkdir()
    specs = draft_specs([f"a={draft}", f"b={draft}"], ["3", "b=6"], ["a", "b", "c"])
    assert {n: (p, s.num_speculative_tokens) for n, (p, s) in specs.items()} == {"a": (draft, 3), "b": (draft, 6)}
    assert draft_specs([], [], ["a"]) == {}
    bad = [
        (([str(draft)], []), "expects NAME=PATH"),
        (([f"x={draft}"], []), "no served model is called 'x'"),
        (([f"a={draft}", f"a={draft}"], []), "two drafts"),
        ((["a=/nonexistent/draft"], []), "does not exist"),
        (([f"a={draft}"], ["c=2"]), "model 'c' has no --draft"),
        (([f"a={draft}"], ["four"]), "K or NAME=K"),
        (([f"a={draft}"], ["0"]), "num_speculative_tokens must be in"),
        (([], ["2"]), "needs a --draft"),
    ]
    for (drafts, tokens), message in bad:
        with pytest.raises(SystemExit, match=re.escape(message)):
            draft_specs(drafts, tokens, ["a", "b", "c"])


def test_a_draft_with_another_vocabulary_is_refused_at_startup(demo_dirs, tmp_path):
    target_dir, draft_dir = demo_dirs
    wide = tmp_path / "wide-draft"
    wide.mkdir()
    config = json.loads((draft_dir / "config.json").read_text())
    weights = load_file(str(draft_dir / "model.safetensors"))
    for name in ("model.embed_tokens.weight", "lm_head.weight"):
        weights[name] = torch.cat([weights[name], torch.zeros(8, weights[name].shape[1])])
    (wide / "config.json").write_text(json.dumps({**config, "vocab_size": config["vocab_size"] + 8}))
    save_file(weights, str(wide / "model.safetensors"), metadata={"format": "pt"})
    (wide / "tokenizer.model").write_bytes((draft_dir / "tokenizer.model").read_bytes())
    with pytest.raises(SystemExit, match=r"--draft t=.*wide-draft: draft 'wide-draft' has vocab_size 2008, the "
                                         r"target 2000: a draft must share the target's tokenizer"):
        main(["--model", f"t={target_dir}", "--draft", f"t={wide}", "--kv-blocks", "64", "--log-level", "warning"])


def test_a_draft_with_another_tokenizer_is_refused(demo_dirs, tmp_path):
    target_dir, _ = demo_dirs
    other = write_demo_model(tmp_path / "other", seed=1, name="other", vocab_size=1000)
    mine = SentencePieceTokenizer(Path(target_dir) / "tokenizer.model")
    check_tokenizers(mine, SentencePieceTokenizer(Path(target_dir) / "tokenizer.model"), "same")
    with pytest.raises(DraftError, match="its tokenizer has 1000 tokens, the target's 2000"):
        check_tokenizers(mine, SentencePieceTokenizer(other / "tokenizer.model"), "other")
    with pytest.raises(ConfigError, match="need a draft model"):
        LLMEngine.from_path(target_dir, EngineConfig(num_kv_blocks=64), speculative=ALWAYS)


# -- metrics and fallback ---------------------------------------------------------------------


def test_acceptance_is_high_for_the_truncated_draft_and_low_for_the_random_one(target):
    gen = torch.Generator().manual_seed(8)
    prompts = [random_prompt(gen, 4 + 5 * k) for k in range(6)]
    rates = {}
    for kind, make in DRAFTS.items():
        engine = speculative_engine(target, make(target))
        assert engine.generate(prompts, greedy(24)) == [hf_greedy(target, p, 24) for p in prompts]
        stats = engine.stats()
        assert stats.speculative is not None
        rates[kind] = stats.speculative.acceptance_rate
        text = Metrics(lambda stats=stats: {"m": stats}).render().decode()
        assert f'leitai_spec_acceptance_rate{{model="m"}} {rates[kind]}' in text
        assert (f'leitai_spec_proposed_tokens_total{{model="m"}} {float(stats.speculative.proposed_tokens)}'
                in text)
    assert rates["truncated"] > 0.6 and rates["random"] < 0.1  # type: ignore[operator]
    plain = engine_for(target)
    plain.generate(prompts[:1], greedy(4))
    assert "leitai_spec_" not in Metrics(lambda: {"m": plain.stats()}).render().decode()


def test_low_acceptance_falls_back_to_plain_decoding_and_probes_again(target):
    gen = torch.Generator().manual_seed(9)
    prompt = random_prompt(gen, 7)
    config = SpeculativeConfig(num_speculative_tokens=3, min_tokens_per_step=1.5, probe_interval=6, compare_speed=False)
    engine = speculative_engine(target, random_draft(config))
    spec = engine.speculator
    assert spec is not None
    kinds: list[str] = []
    plan = spec.plan

    def recording(batch: ScheduledBatch) -> list[int] | None:
        ks = plan(batch)
        kinds.append("spec" if ks else "plain")
        return ks

    spec.plan = recording  # type: ignore[method-assign]
    assert engine.generate([prompt], greedy(60)) == [hf_greedy(target, prompt, 60)]
    stats = engine.stats().speculative
    assert stats is not None and stats.fallback_steps["low_acceptance"] > 20
    pattern = "".join("s" if k == "spec" else "p" for k in kinds[1:])  # after the prefill step
    assert pattern.startswith("s") and "sp" in pattern and "ps" in pattern  # fell back, then probed
    assert pattern.count("s") < pattern.count("p")


def test_a_large_batch_decodes_plainly(target):
    gen = torch.Generator().manual_seed(10)
    prompts = [random_prompt(gen, 6) for _ in range(4)]
    config = SpeculativeConfig(num_speculative_tokens=3, min_tokens_per_step=0.0, max_batch_size=2, compare_speed=False)
    engine = speculative_engine(target, truncated_draft(target, config))
    lengths = [4, 6, 30, 30]
    assert engine.generate(prompts, [greedy(n) for n in lengths]) == [
        hf_greedy(target, p, n) for p, n in zip(prompts, lengths, strict=True)]
    stats = engine.stats().speculative
    assert stats is not None and stats.fallback_steps["large_batch"] >= 3 and stats.sequence_steps > 0


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_step_timer_divides_each_step_s_time_by_its_tokens_per_batch_size():
    clock = FakeClock()
    timer = StepTimer(probe_interval=4, clock=clock)

    def step(rows: int, speculative: bool, seconds: float, tokens: int) -> None:
        timer.start(speculative, rows)
        clock.now += seconds
        timer.produced(tokens)
        timer.stop()

    assert timer.choice(4) is None  # nothing measured: speculate first
    step(4, True, 0.4, 10)
    assert timer.seconds_per_token[(True, 2)] == pytest.approx(0.04)
    assert timer.choice(4) == "speed_probe"  # plain steps unmeasured at 3-4 sequences
    step(4, False, 0.1, 4)
    clock.now += 50.0
    timer.stop()  # an idle engine: the gap measures nothing
    assert timer.seconds_per_token[(False, 2)] == pytest.approx(0.025)
    # Speculation is 1.6x slower at 3-4 sequences: measuring it again costs 0.6 of a plain step,
    # so it waits 0.6 / 2 % = 30 decisions, at most 4 x probe_interval = 16.
    verdicts = []
    for _ in range(17):
        verdict = timer.choice(3)
        verdicts.append(verdict)
        step(3, verdict is None, 0.1, 4)  # 0.025 s a token, whichever kind
    assert verdicts == ["slower"] * 15 + [None, "slower"]
    # The median of its two samples (the first and the probe's).
    assert timer.seconds_per_token[(True, 2)] == pytest.approx((0.04 + 0.025) / 2)
    assert timer.samples[(True, 2)] == 2 and timer.samples[(False, 2)] == 17
    # Batch size 1 has its own measurements. Speculation barely faster there (2 %): plain steps
    # are re-measured often, after 2 decisions, then 4 (2 ** samples, up to probe_interval).
    step(1, True, 0.0098, 1)
    assert timer.choice(1) == "speed_probe"
    step(1, False, 0.01, 1)
    verdicts = []
    for _ in range(8):
        verdict = timer.choice(1)
        verdicts.append(verdict)
        step(1, verdict is None, 0.0098 if verdict is None else 0.01, 1)
    assert verdicts == [None, None, "speed_probe", None, None, None, None, "speed_probe"]


def forward_clock(engine) -> FakeClock:
    """The step timer's clock, moved one unit by each forward pass of the target or the draft
    (as large as each other): its verdicts then follow the work done, not the machine's load."""
    clock = FakeClock()

    def ticking(forward):
        def call(*args, **kwargs):
            clock.now += 1.0
            return forward(*args, **kwargs)
        return call

    for runner, names in ((engine.runner, ("run", "token_logits")), (engine.speculator.runner, ("logits", "fill"))):
        for name in names:
            setattr(runner, name, ticking(getattr(runner, name)))
    engine.speculator.timer._clock = clock
    return clock


def test_a_draft_that_costs_more_than_it_saves_is_measured_slower_and_left(target):
    """A random draft as large as the target (acceptance near 0, each step 3 draft forwards and a
    verification for about one token) with the acceptance rule off: the clock alone stops it."""
    gen = torch.Generator().manual_seed(12)
    prompt = random_prompt(gen, 7)
    config = SpeculativeConfig(num_speculative_tokens=3, min_tokens_per_step=0.0, probe_interval=8)
    hf = tiny_hf_llama(seed=21, num_hidden_layers=4)
    engine = speculative_engine(target, DraftModel(hf.config.to_dict(), hf.state_dict(), config, "heavy"))
    clock = forward_clock(engine)
    assert engine.generate([prompt], greedy(80)) == [hf_greedy(target, prompt, 80)]
    stats = engine.stats().speculative
    assert stats is not None
    assert stats.fallback_steps["slower"] > 60 and stats.fallback_steps["low_acceptance"] == 0
    # About 4x slower a token: speculation measured again only after 4 x probe_interval plain steps.
    assert 1 <= stats.sequence_steps <= 6 and clock.now > 80


def test_the_default_threshold_is_the_break_even_point(target):
    draft = truncated_draft(target, SpeculativeConfig(num_speculative_tokens=4))
    engine = speculative_engine(target, draft)
    params = {name: sum(t.numel() for t in sd.values())
              for name, sd in (("target", target.state_dict()), ("draft", draft.state_dict))}
    assert engine.speculator is not None
    assert engine.speculator.min_tokens_per_step == pytest.approx(1 + 4 * params["draft"] / params["target"])


def test_a_draft_over_another_vocabulary_is_refused(target):
    other = DraftModel({**target.config.to_dict(), "vocab_size": 321}, {}, ALWAYS, "odd")
    with pytest.raises(DraftError, match="draft 'odd' has vocab_size 321, the target 320"):
        speculative_engine(target, other)


def test_serve_without_draft_leaves_a_bad_draft_out_and_says_why(demo_dirs, tmp_path):
    target_dir, draft_dir = demo_dirs
    config = EngineConfig(block_size=16, num_kv_blocks=64)
    other = write_demo_model(tmp_path / "other", seed=1, name="other", vocab_size=1000)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    cases = {"missing": (tmp_path / "missing", "does not exist"), "vocab": (other, "tokenizer has 1000 tokens"),
             "broken": (broken, "draft 'broken': ")}
    engines = {}
    for name, (path, message) in cases.items():
        engine = LLMEngine.from_path(target_dir, config, path, ALWAYS, serve_without_draft=True)
        assert engine.speculator is None and engine.draft_error is not None and message in engine.draft_error
        engines[name] = engine
    # without the flag each is an error, which the command line turns into its message
    for path, message in cases.values():
        with pytest.raises(DraftError, match=re.escape(message)):
            LLMEngine.from_path(target_dir, config, path, ALWAYS)
    good = LLMEngine.from_path(target_dir, config, draft_dir, ALWAYS, serve_without_draft=True)
    assert good.speculator is not None and good.draft_error is None
    plain = LLMEngine.from_path(target_dir, config)
    prompt = [1, 5, 9, 13]
    assert engines["missing"].generate([prompt], greedy(12)) == plain.generate([prompt], greedy(12))
    app = create_app([ServedModel(name, engine, "plain") for name, engine in engines.items()])
    with ServerThread(app) as srv, httpx.Client(base_url=srv.url, timeout=30) as client:
        cards = {m["id"]: m["speculative"] for m in client.get("/v1/models").json()["data"]}
    assert cards["vocab"] == {"active": False, "error": engines["vocab"].draft_error}
    assert "does not exist" in cards["missing"]["error"]
    assert draft_specs(["a=/nonexistent/draft"], [], ["a"], missing_ok=True)["a"][0] == Path("/nonexistent/draft")


def test_a_draft_too_large_for_the_device_is_a_draft_error(demo_dirs, monkeypatch):
    """On a GPU a draft that does not fit raises torch.OutOfMemoryError while loading; the
    target must still be served (--on-draft-error serve), so it becomes a DraftError too."""
    import leitai_runtime.loader as loader

    target_dir, draft_dir = demo_dirs
    real = loader.load_checkpoint

    def load(path, **kwargs):
        if Path(path) == Path(draft_dir):
            raise torch.OutOfMemoryError("CUDA out of memory")
        return real(path, **kwargs)

    monkeypatch.setattr(loader, "load_checkpoint", load)
    engine = LLMEngine.from_path(target_dir, EngineConfig(num_kv_blocks=64), draft_dir, ALWAYS, serve_without_draft=True)
    assert engine.speculator is None and engine.draft_error == "draft 'draft' does not fit in device memory beside its target"
