"""Random request bodies against the real server: whatever arrives, the answer is never a 5xx,
every error is OpenAI's error object, and the server still serves normal requests afterwards."""

from __future__ import annotations

import json

import httpx
import pytest
from helpers_server import ServerThread, sse_events
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from leitai_runtime.config import EngineConfig
from leitai_runtime.demo import write_demo_model
from leitai_runtime.engine import LLMEngine
from leitai_runtime.server import ServedModel, create_app

# A short context bounds every answer (max_tokens or not), so examples stay quick on a CPU.
CONTEXT = 64
PATHS = ("/v1/chat/completions", "/v1/completions")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    demo = write_demo_model(tmp_path_factory.mktemp("models") / "demo", seed=1, name="demo")
    cfg = EngineConfig(block_size=16, num_kv_blocks=64, max_num_seqs=4, max_model_len=CONTEXT)
    with ServerThread(create_app([ServedModel("fuzz", LLMEngine.from_path(demo, cfg), "plain")])) as srv:
        with httpx.Client(base_url=srv.url, timeout=60) as c:
            yield c


# -- strategies ----------------------------------------------------------------------------

ODD_TEXT = ["\ud800", "\udfff", "x\udc00y", "\x00", "\x1b[2J", "\r\n", "\u2028", "\ufeff", "\U0010ffff", "<s>",
            "</s>", "<|im_end|>", "[INST]", "{{ x }}", "{% if %}", "你好", "🙂", "\u0301", " ", ""]
texts = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=30),  # surrogates and controls included
    st.sampled_from(ODD_TEXT),
    st.lists(st.sampled_from(ODD_TEXT) | st.text(max_size=4), max_size=6).map("".join),
)
numbers = st.one_of(
    st.integers(-(1 << 70), 1 << 70),
    st.floats(),  # NaN and ±inf included: json.dumps writes them as raw NaN / Infinity
    st.sampled_from([0, 1, -1, 2, 1 << 63, (1 << 63) - 1, -(1 << 63) - 1, 10**40, 1e-40, 1e308, -0.0, 5e-324,
                     1e-4, 9.9e-5, 0.01, 0.0099, 2.0000001, 10.0, 10.5, float("nan")]),
)
scalars = st.none() | st.booleans() | numbers | texts
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
                           max_leaves=10)


def either(plausible: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly a value of the field's type, sometimes anything at all."""
    return st.one_of(plausible, plausible, json_values)


content = either(texts | st.none() | st.lists(st.fixed_dictionaries({"type": st.sampled_from(["text", "image_url"]),
                                                                     "text": either(texts)}), max_size=3))
message = either(st.fixed_dictionaries(
    {"role": either(st.sampled_from(["user", "assistant", "system", "developer", "tool", "robot"])),
     "content": content},
    optional={"name": texts, "tool_calls": json_values}))
TEMPLATES = ["alpaca2", "plain", "llama2-chat", "model", "chatml", "{{ messages[0]['content'] }}",
             "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}", "{{ raise_exception('no') }}",
             "{{ messages[7].content }}", "{{ 1 / 0 }}", "{% for %}", "{{ bos_token }}{{ eos_token * 3 }}",
             "{{ messages | tojson }}", "{{ ''.__class__.__mro__ }}", "{{ range(10**9) | list }}"]
FIELDS: dict[str, st.SearchStrategy] = {
    "messages": either(st.lists(message, max_size=4)),
    "prompt": either(texts | st.lists(st.integers(-3, 40000), max_size=12) | st.lists(texts, max_size=2)),
    "max_tokens": either(st.integers(-2, CONTEXT + 2)),
    "max_completion_tokens": either(st.integers(-2, CONTEXT + 2)),
    "temperature": either(numbers), "top_p": either(numbers), "top_k": either(st.integers(-3, 1 << 31)),
    "repetition_penalty": either(numbers), "seed": either(numbers), "priority": either(st.integers(-1200, 1200)),
    "stop": either(texts | st.lists(texts, max_size=20)),
    "stream": either(st.booleans()),
    "stream_options": either(st.fixed_dictionaries({}, optional={"include_usage": either(st.booleans())})),
    "chat_template": either(st.sampled_from(TEMPLATES) | texts),
    "ignore_eos": either(st.booleans()),
    "n": either(st.integers(-1, 3)), "best_of": either(st.integers(-1, 3)), "echo": either(st.booleans()),
    "suffix": either(texts), "logprobs": either(st.booleans() | st.integers(0, 5)),
    "top_logprobs": either(st.integers(0, 5)), "logit_bias": json_values, "user": json_values,
    "response_format": either(st.fixed_dictionaries({"type": st.sampled_from(["text", "json_object", "x"])})),
    "tools": json_values, "tool_choice": json_values, "functions": json_values,
    "frequency_penalty": either(numbers), "presence_penalty": either(numbers),
}
wild_bodies = st.builds(
    lambda fixed, extra: {**extra, **fixed},
    st.fixed_dictionaries({"model": either(st.just("fuzz"))}, optional=FIELDS),
    st.dictionaries(texts, json_values, max_size=3),
) | json_values  # not even an object

# Bodies that mostly pass validation, so the engine sees the edges of every sampling range too.
plain_text = st.text(min_size=1, max_size=30)
NEAR_VALID: dict[str, st.SearchStrategy] = {
    "max_tokens": st.integers(1, 8), "max_completion_tokens": st.integers(1, 8),
    "temperature": st.floats(0, 2) | st.sampled_from([0, -0.0, 1e-4, 2, 5e-324]),
    "top_p": st.floats(0, 1, exclude_min=True) | st.sampled_from([5e-324, 1e-40, 1]),
    "top_k": st.integers(-1, 70_000) | st.just(1 << 30),
    "repetition_penalty": st.floats(0.01, 10) | st.sampled_from([0.01, 10, 1]),
    "seed": st.integers(-(1 << 63), (1 << 63) - 1), "priority": st.integers(-1000, 1000),
    "stop": plain_text | st.lists(plain_text, min_size=1, max_size=16),
    "stream": st.booleans(), "stream_options": st.fixed_dictionaries({"include_usage": st.booleans()}),
    "ignore_eos": st.booleans(), "n": st.just(1), "logprobs": st.just(False), "echo": st.just(False),
    "response_format": st.just({"type": "text"}), "chat_template": st.sampled_from(TEMPLATES),
    "frequency_penalty": st.just(0), "user": plain_text,
}
near_messages = st.tuples(
    st.lists(st.fixed_dictionaries({"role": st.sampled_from(["system", "developer"]), "content": plain_text}),
             max_size=1),
    st.lists(st.tuples(plain_text, plain_text | st.none()), max_size=2),
    plain_text,
).map(lambda t: [*t[0], *[m for q, a in t[1] for m in ({"role": "user", "content": q},
                                                           {"role": "assistant", "content": a})],
                 {"role": "user", "content": t[2]}])
near_valid_bodies = st.builds(
    lambda payload, fields: {"model": "fuzz", **payload, **fields},
    st.fixed_dictionaries({"messages": near_messages}) | st.fixed_dictionaries(
        {"prompt": plain_text | st.lists(st.integers(0, 2_100), min_size=1, max_size=12)}),  # vocab: 2000
    st.fixed_dictionaries({}, optional=NEAR_VALID),
).map(lambda b: {**b, "stream": True} if "stream_options" in b and "stream" not in b else b)


def encodings(body: object) -> st.SearchStrategy[bytes]:
    text = json.dumps(body)  # ASCII, with \ud800-style escapes and raw NaN / Infinity
    return st.sampled_from([
        text.encode(), text.encode(),
        json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass"),  # invalid UTF-8 for surrogates
        text[: len(text) // 2].encode(),  # truncated
    ])


RAW = [b"", b"null", b"[" * 100_000, b'{"a":' * 50_000, b"{" + b'"x":[' * 900 + b"]" * 900 + b"}",
       b'{"model": "fuzz", "prompt": "hi", "seed": ' + b"7" * 5000 + b"}",
       b'{"model": "fuzz", "prompt": "hi", "temperature": 1e999}', b'{"model": "fuzz", "prompt": "hi", "top_p": -0}',
       b'{"model": "fuzz", "prompt": "hi", "max_tokens": 2}garbage', b"\xff\xfe{\x00}\x00", b"\xef\xbb\xbf{}"]
payloads = st.one_of(near_valid_bodies.flatmap(encodings), near_valid_bodies.flatmap(encodings),
                     wild_bodies.flatmap(encodings), st.sampled_from(RAW))


# -- checks ---------------------------------------------------------------------------------

def assert_openai_answer(r: httpx.Response) -> None:
    event(f"HTTP {r.status_code}")  # --hypothesis-show-statistics: how many got as far as generating
    assert r.status_code < 500, r.text[:500]
    if r.status_code >= 400:
        body = r.json()
        assert set(body) == {"error"}, body
        err = body["error"]
        assert set(err) == {"message", "type", "param", "code"}, err
        assert isinstance(err["message"], str) and err["message"] and isinstance(err["type"], str)
        assert err["param"] is None or isinstance(err["param"], str)
        assert err["code"] is None or isinstance(err["code"], str)
        return
    assert r.status_code == 200, r.text[:500]
    if r.headers["content-type"].startswith("text/event-stream"):
        events = sse_events(r.text.splitlines())
        assert events[-1] == "[DONE]" and not any(isinstance(e, dict) and "error" in e for e in events), events
    else:
        assert r.json()["choices"], r.text[:500]


def assert_still_serving(client: httpx.Client) -> None:
    for path, payload in zip(PATHS, ({"messages": [{"role": "user", "content": "Hi"}]}, {"prompt": "Hi"}),
                             strict=True):
        r = client.post(path, json={"model": "fuzz", "max_tokens": 3, **payload})
        assert r.status_code == 200 and r.json()["usage"]["completion_tokens"] >= 1, r.text


# derandomize: the same examples every run, so a failure replays without a database
@settings(max_examples=200, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(path=st.sampled_from(PATHS), payload=payloads)
def test_random_bodies_never_get_a_5xx(client, path, payload):
    assert_openai_answer(client.post(path, content=payload, headers={"content-type": "application/json"}))


@settings(max_examples=40, deadline=None, database=None, derandomize=True)
@given(method=st.sampled_from(["GET", "PUT", "DELETE", "PATCH", "POST"]),
       path=st.sampled_from(["/v1/models", "/v1/models/fuzz", "/v1/models/nope", "/v1/embeddings", "/health",
                             "/v1/chat/completions", "/v1/completions", "/", "/v1/models/a/b"]))
def test_random_routes_and_methods_get_the_error_shape(client, method, path):
    r = client.request(method, path, content=b"{}")
    if r.status_code >= 400:
        assert_openai_answer(r)
    else:
        assert method in ("GET", "POST")


def test_the_server_still_answers_after_the_fuzz(client):
    assert_still_serving(client)
