"""One request cannot break the others, and a finished request loses no text.

Extreme but accepted sampling values are computed (as their limits) or refused up front; a
request that still fails inside a step ends alone with an error while the batch goes on.
Whatever ends a sequence (EOS, a stop token, the length limit, an abort), the text held back
as a possible start of a stop string comes out. All of it with real tiny models.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import httpx
import pytest
import torch
from helpers_bpe import bpe_tokenizer_json
from helpers_engine import VOCAB, random_prompt, tiny_hf_llama
from helpers_server import ServerThread, sse_events
from helpers_speculative import speculative_engine, speculative_target, truncated_draft
from tokenizers import Tokenizer as RustTokenizer
from transformers import LlamaForCausalLM

from leitai_runtime.config import EngineConfig
from leitai_runtime.cuda_graph import EagerGraph
from leitai_runtime.demo import demo_tokenizer_model
from leitai_runtime.engine import LLMEngine
from leitai_runtime.hf_tokenizer import HFTokenizer
from leitai_runtime.sequence import InvalidParamsError, SamplingParams
from leitai_runtime.server import ServedModel, create_app
from leitai_runtime.speculative import DraftModel
from leitai_runtime.tokenizer import SentencePieceTokenizer, Tokenizer

MAX_TOKENS = 8
SP_VOCAB = 2000  # the demo SentencePiece tokenizer's
PADDED = SP_VOCAB + 50  # a row of a padded vocabulary: the model may emit it, the tokenizer has no text for it


@pytest.fixture(scope="module")
def sp_tok() -> SentencePieceTokenizer:
    return SentencePieceTokenizer(demo_tokenizer_model())


@pytest.fixture(scope="module")
def bpe_tok() -> HFTokenizer:
    return HFTokenizer(RustTokenizer.from_str(bpe_tokenizer_json()), bos_id=0, eos_id=2, adds_bos=False)


def engine(hf: LlamaForCausalLM, tok: Tokenizer | None, **config: int) -> LLMEngine:
    cfg = EngineConfig(**{"block_size": 4, "num_kv_blocks": 256, "max_num_batched_tokens": 64, **config})
    return LLMEngine(hf.config.to_dict(), hf.state_dict(), cfg, tok)


def chain_llama(vocab: int, links: dict[int, int], seed: int = 0) -> LlamaForCausalLM:
    """A tiny Llama that, greedy, follows `links`: after token a comes links[a].

    Its layers add nothing (zero output projections), so the last hidden state is the current
    token's embedding, and lm_head's row for links[a] points along a's embedding."""
    targets = list(links.values())
    assert len(set(targets)) == len(targets), "each token may follow only one other"
    hf = tiny_hf_llama(seed, vocab_size=vocab)
    with torch.no_grad():
        for name, param in hf.named_parameters():
            if name.endswith(("o_proj.weight", "down_proj.weight")):
                param.zero_()
        embed, head = hf.model.embed_tokens.weight, hf.lm_head.weight
        head.mul_(0.01)
        for a, b in links.items():
            head[b] = embed[a] / embed[a].norm() * 50.0
    return hf


@dataclass
class Finished:
    tokens: list[int]
    text: str  # every output's new_text, concatenated: what a client streams
    reason: str | None
    error: str | None


def run(eng: LLMEngine, requests: list[tuple[list[int], SamplingParams]]) -> list[Finished]:
    """Add all requests, step until done; per request its tokens, streamed text and end."""
    ids = [eng.add_request(prompt, params) for prompt, params in requests]
    done = {i: Finished([], "", None, None) for i in ids}
    while eng.has_unfinished():
        for out in eng.step():
            f = done[out.seq_id]
            f.tokens += out.new_token_ids
            f.text += out.new_text
            if out.finished:
                f.reason, f.error = out.finish_reason, out.error
    return [done[i] for i in ids]


def greedy() -> SamplingParams:
    return SamplingParams(temperature=0.0, max_tokens=MAX_TOKENS)


# -- extreme sampling values -----------------------------------------------------------------

# Inside what the API accepts, but logits / temperature or the penalty overflow float32.
COMPUTED = [
    {"temperature": 1e-40},
    {"temperature": 1e-40, "top_k": 5, "top_p": 0.5},
    {"temperature": 1e-300},
    {"temperature": 1.0, "repetition_penalty": 1e-40},
    {"temperature": 0.0, "repetition_penalty": 1e-40},
    {"temperature": 2.0, "repetition_penalty": 5e-324},
    {"temperature": 0.5, "repetition_penalty": 1e300},
    {"temperature": 1e-40, "repetition_penalty": 1e-40},
]
REFUSED = [
    {"temperature": math.inf}, {"temperature": math.nan}, {"repetition_penalty": math.inf},
    {"repetition_penalty": math.nan}, {"top_p": math.nan},
]


@pytest.fixture(scope="module")
def random_model() -> LlamaForCausalLM:
    return tiny_hf_llama(seed=5)


@pytest.fixture(scope="module")
def prompts() -> list[list[int]]:
    gen = torch.Generator().manual_seed(5)
    return [random_prompt(gen, n) for n in (3, 5, 7, 9, 11, 13, 6, 4, 8)]


@pytest.fixture(scope="module")
def alone(random_model, prompts, sp_tok) -> list[Finished]:
    """The 8 normal greedy requests, run without the bad one."""
    return run(engine(random_model, sp_tok), [(p, greedy()) for p in prompts[:8]])


@pytest.mark.parametrize("bad", COMPUTED, ids=str)
def test_extreme_values_are_computed_without_disturbing_others(random_model, prompts, sp_tok, alone, bad):
    eng = engine(random_model, sp_tok)
    free_blocks = eng.block_manager.num_free_blocks
    bad_params = SamplingParams(max_tokens=MAX_TOKENS, seed=7, **bad)
    normal = [(p, greedy()) for p in prompts[:8]]
    together = run(eng, [*normal[:4], (prompts[8], bad_params), *normal[4:]])
    assert together[:4] + together[5:] == alone
    odd = together[4]
    assert odd.error is None and odd.reason in ("stop", "length")
    assert 1 <= len(odd.tokens) <= MAX_TOKENS and all(0 <= t < VOCAB for t in odd.tokens)
    assert eng.block_manager.num_free_blocks == free_blocks  # nothing leaked


def test_a_vanishing_temperature_is_greedy(random_model, prompts):
    eng = engine(random_model, None)
    greedy_ids = run(eng, [(prompts[8], greedy())])[0].tokens
    for temperature in (1e-40, 1e-300):
        params = SamplingParams(temperature=temperature, max_tokens=MAX_TOKENS, seed=3)
        assert run(eng, [(prompts[8], params)])[0].tokens == greedy_ids


@pytest.mark.parametrize("bad", REFUSED, ids=str)
def test_values_that_cannot_be_computed_are_refused_by_name(bad):
    with pytest.raises(InvalidParamsError) as err:
        SamplingParams(**bad)
    assert err.value.param == next(iter(bad))


# -- a request that fails inside a step ------------------------------------------------------

def padded_order() -> list[int]:
    """The cycle padded_model follows: order[i + 1] after order[i], except after order[0]."""
    return torch.randperm(SP_VOCAB - 3, generator=torch.Generator().manual_seed(0)).add(3).tolist()


@pytest.fixture(scope="module")
def padded_model() -> tuple[LlamaForCausalLM, list[int]]:
    """A model whose vocabulary is padded past the tokenizer's (as many checkpoints are): every
    token is followed by another real one, except that BAD is followed by a padding row."""
    order = padded_order()
    links = dict(zip(order, order[1:] + order[:1], strict=True))
    bad = order[0]
    links[bad] = PADDED
    return chain_llama(SP_VOCAB + 64, links), [order[100], bad]


def test_a_failing_request_ends_alone(padded_model, prompts, sp_tok):
    hf, bad_prompt = padded_model
    normal = [([p[0] % SP_VOCAB + 3], SamplingParams(temperature=t, seed=1, max_tokens=MAX_TOKENS))
              for p, t in zip(prompts[:8], (0.0, 0.7) * 4, strict=True)]
    alone = run(engine(hf, sp_tok), normal)
    assert all(f.reason == "length" and f.error is None and len(f.tokens) == MAX_TOKENS for f in alone)

    eng = engine(hf, sp_tok)
    free_blocks = eng.block_manager.num_free_blocks
    together = run(eng, [*normal[:3], (bad_prompt, greedy()), *normal[3:]])
    assert together[:3] + together[4:] == alone
    failed = together[3]
    assert failed.reason == "error" and "outside the vocabulary" in (failed.error or "")
    assert eng.stats().finished_total["error"] == 1
    assert eng.block_manager.num_free_blocks == free_blocks
    # the engine goes on serving
    assert run(eng, normal[:2]) == alone[:2]


def test_a_failing_request_ends_alone_under_decode_ahead(padded_model, prompts, sp_tok):
    """The bad request reaches the padding row a few decode steps in, so it fails in a step read
    back with the next one already queued; the others' answers are those they get alone."""
    hf, _ = padded_model
    normal = [([p[0] % SP_VOCAB + 3], greedy()) for p in prompts[:8]]
    alone = run(engine(hf, sp_tok), normal)
    eng = engine(hf, sp_tok)
    eng.runner.enable_decode_graphs(EagerGraph)
    free_blocks = eng.block_manager.num_free_blocks
    failed_ahead: list[str] = []
    step_ahead = eng._step_decode_ahead

    def spying(batch, outputs):
        generated = step_ahead(batch, outputs)
        failed_ahead.extend(o.error or "" for o in outputs if o.finish_reason == "error")
        return generated

    eng._step_decode_ahead = spying  # type: ignore[method-assign]
    bad_prompt = [padded_order()[-4]]  # then three tokens, BAD, a padding row
    together = run(eng, [*normal[:3], (bad_prompt, greedy()), *normal[3:]])
    assert together[:3] + together[4:] == alone
    failed = together[3]
    assert failed.reason == "error" and "outside the vocabulary" in (failed.error or "")
    assert len(failed.tokens) == 4
    assert failed_ahead == [failed.error]  # in a decode-ahead step
    assert eng.stats().finished_total["error"] == 1
    assert eng._launched is None and eng.block_manager.num_free_blocks == free_blocks
    assert run(eng, normal[:2]) == alone[:2]


# -- a failing draw under speculative decoding ---------------------------------------------

def staged(eng: LLMEngine, first: list[tuple[list[int], SamplingParams]],
           later: list[tuple[list[int], SamplingParams]]) -> list[Finished]:
    """run(), but `later` joins after one step, while `first` decode: its prefill then shares a
    speculative step with their decoding."""
    ids = [eng.add_request(prompt, params) for prompt, params in first]
    outputs = eng.step()
    ids += [eng.add_request(prompt, params) for prompt, params in later]
    done = {i: Finished([], "", None, None) for i in ids}
    while True:
        for out in outputs:
            f = done[out.seq_id]
            f.tokens += out.new_token_ids
            f.text += out.new_text
            if out.finished:
                f.reason, f.error = out.finish_reason, out.error
        if not eng.has_unfinished():
            return [done[i] for i in ids]
        outputs = eng.step()


@pytest.mark.parametrize("where", ["target", "draft"])
def test_a_failing_draw_under_speculation_ends_alone(prompts, where):
    """A token whose embedding row is NaN (in the target, or in the draft only) gives a sampled
    request fed it no distribution to draw from: at the target's draw (the acceptance step) or at
    the draft's (its proposals). That request ends with an error; the others' tokens are those
    they get without it, and every block comes back."""
    hf = speculative_target()
    normal = [(p, SamplingParams(temperature=t, seed=1, max_tokens=MAX_TOKENS))
              for p, t in zip(prompts[:6], (0.0, 0.7) * 3, strict=True)]
    clean = speculative_engine(hf, truncated_draft(hf))
    # twice: a sampled run under speculation draws as its steps go, and the second run's prompts
    # hit the prefix cache, so its steps (and draws) differ from the first's
    alone, again = (staged(clean, normal[:3], normal[3:]) for _ in range(2))
    used = {t for prompt, _ in normal for t in prompt} | {t for f in alone for t in f.tokens}
    bad = next(t for t in range(3, VOCAB) if t not in used)  # never fed to the normal requests

    draft = truncated_draft(hf)
    weights = {k: v.clone() for k, v in (hf.state_dict() if where == "target" else draft.state_dict).items()}
    weights["model.embed_tokens.weight"][bad] = float("nan")
    if where == "target":
        hf.load_state_dict(weights)
        draft = truncated_draft(hf)
    else:
        draft = DraftModel(draft.hf_config, weights, draft.config, draft.name)
    eng = speculative_engine(hf, draft)
    assert eng.speculator is not None
    failed_in_spec_step: set[int] = set()
    step = eng.speculator.step

    def spying(batch, ks, sampler):
        runs = step(batch, ks, sampler)
        failed_in_spec_step.update(sampler.failures)
        return runs

    eng.speculator.step = spying  # type: ignore[method-assign]
    free_blocks = eng.block_manager.num_free_blocks
    bad_request = ([*prompts[8][:4], bad], SamplingParams(temperature=0.8, seed=2, max_tokens=MAX_TOKENS))
    together = staged(eng, normal[:3], [bad_request, *normal[3:]])
    assert together[:3] + together[4:] == alone
    failed = together[3]
    assert failed.reason == "error" and "no distribution" in (failed.error or ""), failed
    assert failed_in_spec_step  # it failed inside a speculative step, not a plain one
    assert eng.stats().finished_total["error"] == 1
    assert eng.block_manager.num_free_blocks == free_blocks
    assert staged(eng, normal[:3], normal[3:]) == again  # the engine goes on serving


# -- through the HTTP server -----------------------------------------------------------------

@pytest.fixture(scope="module")
def server(random_model, padded_model, sp_tok):
    app = create_app([
        ServedModel("random", engine(random_model, sp_tok, max_num_seqs=16), "plain"),
        ServedModel("padded", engine(padded_model[0], sp_tok, max_num_seqs=16), "plain"),
    ])
    with ServerThread(app) as srv:
        yield srv


def completion(url: str, body: dict) -> httpx.Response:
    with httpx.Client(base_url=url, timeout=60) as client:
        return client.post("/v1/completions", json=body)


def concurrently(url: str, bodies: list[dict]) -> list[httpx.Response]:
    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(lambda body: completion(url, body), bodies))


@pytest.mark.parametrize("model,bad,statuses", [
    # inside the API's (OpenAI's) bounds: computed by the engine as their limits
    ("random", {"temperature": 1e-40}, (200,)),
    ("random", {"temperature": 1.0, "repetition_penalty": 1e-40}, (200,)),
    ("random", {"temperature": 1e-40, "repetition_penalty": 1e-40, "top_p": 1e-9}, (200,)),
    ("random", {"temperature": 2.5}, (400,)),
    ("padded", {"temperature": 0}, (500,)),
])
def test_http_bad_request_alone_is_affected(server, prompts, padded_model, model, bad, statuses):
    normal = [{"model": model, "prompt": p if model == "random" else [p[0] + 3], "max_tokens": MAX_TOKENS,
               "temperature": 0} for p in prompts[:8]]
    baseline = [completion(server.url, body).json()["choices"][0]["text"] for body in normal]
    bad_prompt = prompts[8] if model == "random" else padded_model[1]
    bad_body = {"model": model, "prompt": bad_prompt, "max_tokens": MAX_TOKENS, "seed": 4, **bad}
    responses = concurrently(server.url, [*normal[:4], bad_body, *normal[4:]])
    odd = responses.pop(4)
    assert [r.status_code for r in responses] == [200] * 8
    assert [r.json()["choices"][0]["text"] for r in responses] == baseline
    assert odd.status_code in statuses, odd.text
    if odd.status_code == 400:  # refused up front, naming the parameter
        assert odd.json()["error"]["param"] in bad
    if odd.status_code == 500:  # failed alone, with its own error
        assert "outside the vocabulary" in odd.json()["error"]["message"]


def test_http_stream_of_a_failing_request_ends_with_its_error(server, padded_model):
    body = {"model": "padded", "prompt": padded_model[1], "max_tokens": MAX_TOKENS, "temperature": 0,
            "stream": True}
    with httpx.Client(base_url=server.url, timeout=60) as client, \
            client.stream("POST", "/v1/completions", json=body) as r:
        events = sse_events(list(r.iter_lines()))
    assert events[-1] == "[DONE]" and "outside the vocabulary" in events[-2]["error"]["message"]
    ok = completion(server.url, {"model": "padded", "prompt": [10], "max_tokens": 3, "temperature": 0})
    assert ok.status_code == 200


# -- no text lost at the end -----------------------------------------------------------------

PARIS = "The capital is Paris."  # tokens all distinct in both tokenizers (see ending_chain)
CHINESE = "你好，世界龘！"
# (answer, stop strings, what the client must get)
STOP_CASES = [
    (PARIS, (".ZZZ",), PARIS),
    (PARIS, ("Paris.!",), PARIS),  # the whole tail is a stop string's prefix
    (PARIS, (".Z", "s.x", "is Paris. Or"), PARIS),  # several prefixes of the tail, overlapping
    (PARIS, (PARIS + " Or",), PARIS),  # the whole text is a stop string's prefix
    (PARIS, (PARIS,), ""),  # the stop string is the whole text
    (PARIS, ("capital is",), "The "),  # spans tokens
    (PARIS, ("is P", "s."), "The capital "),  # overlapping: the first to complete wins
    (PARIS, ("Par", "Paris"), "The capital is "),
    (PARIS, ("e", "T"), ""),
    (CHINESE, ("！？",), CHINESE),
    (CHINESE, ("龘！?",), CHINESE),
    (CHINESE, ("界龘",), "你好，世"),
    (CHINESE, ("龘",), "你好，世界"),
    (CHINESE, ("好，世界龘！",), "你"),
    (CHINESE, (), CHINESE),
]
ENDINGS = ["eos", "stop_token", "max_tokens"]


def ending_chain(tok: Tokenizer, answer_ids: list[int], ending: str) -> tuple[LLMEngine, list[int], SamplingParams]:
    """An engine whose greedy answer to its prompt is `answer_ids`, then EOS, or a stop token, or
    the length limit. Tokens must be distinct (each is followed by one token only)."""
    start = tok.bos_id
    end = tok.eos_id
    assert start not in answer_ids and end not in answer_ids
    stop_id = next(i for i in range(3, 200) if i not in answer_ids)
    after = {"eos": end, "stop_token": stop_id, "max_tokens": stop_id}[ending]
    chain = [start, *answer_ids, after]
    hf = chain_llama(tok.vocab_size, dict(zip(chain, chain[1:], strict=False)))
    params = SamplingParams(temperature=0.0, max_tokens=len(answer_ids) if ending == "max_tokens" else 64,
                            stop_token_ids=(stop_id,) if ending == "stop_token" else ())
    return engine(hf, tok), [start], params


@pytest.mark.parametrize("tokenizer", ["sentencepiece", "bpe"])
@pytest.mark.parametrize("ending", ENDINGS)
@pytest.mark.parametrize("answer,stop,expected", STOP_CASES)
def test_no_text_is_lost_at_the_end(request, tokenizer, ending, answer, stop, expected):
    tok = request.getfixturevalue("sp_tok" if tokenizer == "sentencepiece" else "bpe_tok")
    answer_ids = tok.encode(answer)
    assert tok.decode(answer_ids) == answer
    eng, prompt, params = ending_chain(tok, answer_ids, ending)
    out = run(eng, [(prompt, replace(params, stop=stop))])[0]
    assert out.text == expected
    hit = expected != answer
    assert out.reason == ("length" if ending == "max_tokens" and not hit else "stop")
    if not hit:  # the whole answer came out: the tokens the text is made of
        assert out.tokens[:len(answer_ids)] == answer_ids


@pytest.mark.parametrize("ending", ENDINGS)
def test_the_final_full_stop_is_not_lost(sp_tok, ending):
    answer = "The capital of France is Paris."
    eng, prompt, params = ending_chain(sp_tok, sp_tok.encode(answer), ending)
    out = run(eng, [(prompt, replace(params, stop=(".ZZZ",)))])[0]
    assert out.text == answer


@pytest.mark.parametrize("tokenizer", ["sentencepiece", "bpe"])
@pytest.mark.parametrize("ending", ENDINGS)
def test_an_unfinished_character_comes_out_as_decoding_gives_it(request, tokenizer, ending):
    tok = request.getfixturevalue("sp_tok" if tokenizer == "sentencepiece" else "bpe_tok")
    whole = tok.encode("你好龘")
    # cut inside the last character's bytes: the answer ends with an unfinished character
    answer_ids = next(whole[:n] for n in range(len(whole) - 1, 0, -1) if tok.decode(whole[:n]).endswith("\ufffd"))
    eng, prompt, params = ending_chain(tok, answer_ids, ending)
    for stop in ((), ("龘",), ("\ufffdx",)):
        out = run(eng, [(prompt, replace(params, stop=stop))])[0]
        assert out.text == tok.decode(answer_ids)


def test_abort_emits_what_was_held_back(sp_tok):
    answer_ids = sp_tok.encode(PARIS)
    assert sp_tok.decode(answer_ids[-1:]) == "."
    eng, prompt, params = ending_chain(sp_tok, answer_ids, "eos")
    sid = eng.add_request(prompt, replace(params, stop=(".ZZZ",)))
    text, tokens = "", 0
    while tokens < len(answer_ids):  # every answer token read, EOS not yet
        for out in eng.step():
            text += out.new_text
            tokens += len(out.new_token_ids)
    assert text == PARIS[:-1]  # "." could still start ".ZZZ"
    eng.abort(sid)
    outs = eng.step()
    assert [(o.finish_reason, o.new_text) for o in outs] == [("abort", ".")]
