"""The HTTP server on a real socket: OpenAI shapes, streaming, disconnects, errors, overload."""

from __future__ import annotations

import re
import threading
import time

import httpx
import pytest
from helpers_server import CHAIN_QUESTION, ServerThread, sse_events, write_chain_model

from leitai_runtime.config import EngineConfig
from leitai_runtime.demo import write_demo_model
from leitai_runtime.engine import LLMEngine
from leitai_runtime.server import ServedModel, create_app

ANSWER = "你好，世界！龘🙂"
SHORT_CONTEXT = 40


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    demo = write_demo_model(root / "demo", seed=1, name="demo")
    chain, _ = write_chain_model(root / "chain", ANSWER)
    cfg = EngineConfig(block_size=16, num_kv_blocks=64, max_num_seqs=8, max_num_batched_tokens=256)
    busy_cfg = EngineConfig(block_size=16, num_kv_blocks=64, max_num_seqs=1, max_waiting=1)
    short_cfg = EngineConfig(block_size=16, num_kv_blocks=64, max_model_len=SHORT_CONTEXT)
    app = create_app([
        ServedModel("demo", LLMEngine.from_path(demo, cfg), "alpaca2"),
        ServedModel("chain", LLMEngine.from_path(chain, cfg), "alpaca2"),
        ServedModel("busy", LLMEngine.from_path(demo, busy_cfg), "plain"),
        ServedModel("short", LLMEngine.from_path(demo, short_cfg), "plain"),
    ])
    with ServerThread(app) as srv:
        yield srv


@pytest.fixture()
def client(server):
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def metric(client: httpx.Client, name: str, model: str) -> float:
    text = client.get("/metrics").text
    m = re.search(rf'^{name}{{model="{model}"}} (\S+)$', text, re.M)
    assert m, f"{name} for {model} not in /metrics"
    return float(m.group(1))


def aborted(client: httpx.Client) -> float:
    m = re.search(r'^leitai_requests_total{finish_reason="abort",model="demo"} (\S+)$',
                  client.get("/metrics").text, re.M)
    assert m
    return float(m.group(1))


def stream_events(client: httpx.Client, path: str, body: dict) -> list[dict | str]:
    with client.stream("POST", path, json={**body, "stream": True}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        return sse_events(list(r.iter_lines()))


def test_models_and_health(client):
    assert client.get("/health").json()["status"] == "ok"
    ids = [m["id"] for m in client.get("/v1/models").json()["data"]]
    assert ids == ["demo", "chain", "busy", "short"]


def test_a_model_can_be_retrieved_by_id(client):
    card = client.get("/v1/models/short").json()
    assert card["id"] == "short" and card["object"] == "model" and card["max_model_len"] == SHORT_CONTEXT
    r = client.get("/v1/models/gpt-4")
    assert r.status_code == 404
    assert r.json() == {"error": {"message": r.json()["error"]["message"], "type": "invalid_request_error",
                                  "param": "model", "code": "model_not_found"}}
    assert "gpt-4" in r.json()["error"]["message"]


@pytest.mark.parametrize("include_usage", [False, True])
@pytest.mark.parametrize("path,payload", [
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "Tell me a story"}]}),
    ("/v1/completions", {"prompt": "Once upon a time"}),
])
def test_stream_equals_non_stream(client, path, payload, include_usage):
    body = {"model": "demo", "temperature": 0, "max_tokens": 24, **payload}
    whole = client.post(path, json=body).json()
    options = {"stream_options": {"include_usage": True}} if include_usage else {}
    events = stream_events(client, path, {**body, **options})
    assert events[-1] == "[DONE]"
    chunks = [e for e in events[:-1] if isinstance(e, dict)]
    # OpenAI's shape: usage only when asked, in a chunk of its own after the finish_reason
    if include_usage:
        *chunks, last = chunks
        assert last["choices"] == [] and last["usage"] == whole["usage"]
        assert all(c["usage"] is None for c in chunks)
    else:
        assert all("usage" not in c for c in chunks)
    if path.endswith("chat/completions"):
        text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
        assert whole["choices"][0]["message"]["content"] == text
        assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    else:
        text = "".join(c["choices"][0]["text"] for c in chunks)
        assert whole["choices"][0]["text"] == text
    assert chunks[-1]["choices"][0]["finish_reason"] == whole["choices"][0]["finish_reason"]
    usage = whole["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0


def test_streamed_chinese_answer_is_exact_and_never_broken(client):
    body = {"model": "chain", "messages": CHAIN_QUESTION, "temperature": 0, "max_tokens": 50}
    events = stream_events(client, "/v1/chat/completions", body)
    deltas = [e["choices"][0]["delta"].get("content", "") for e in events if isinstance(e, dict)]
    assert all("\ufffd" not in d for d in deltas)
    assert "".join(deltas) == ANSWER
    assert events[-2]["choices"][0]["finish_reason"] == "stop"


def test_stop_string_cuts_the_answer(client):
    body = {"model": "chain", "messages": CHAIN_QUESTION, "temperature": 0, "stop": ["世界"]}
    out = client.post("/v1/chat/completions", json=body).json()
    assert out["choices"][0]["message"]["content"] == "你好，"
    assert out["choices"][0]["finish_reason"] == "stop"


def test_disconnect_mid_stream_frees_the_sequence(client, server):
    body = {"model": "demo", "prompt": "Keep going", "max_tokens": 900, "ignore_eos": True, "stream": True}
    with httpx.Client(base_url=server.url, timeout=30) as other:
        with other.stream("POST", "/v1/completions", json=body) as r:
            lines = r.iter_lines()
            for _ in range(3):
                next(lines)
            assert metric(client, "leitai_running_sequences", "demo") == 1
    # The engine frees the blocks, then counts the abort: wait for both.
    deadline = time.monotonic() + 10
    while metric(client, "leitai_running_sequences", "demo") != 0 or \
            metric(client, "leitai_kv_blocks_used", "demo") != 0 or aborted(client) < 1:
        assert time.monotonic() < deadline, "the aborted sequence still holds blocks"
        time.sleep(0.05)


def test_disconnect_while_waiting_for_a_non_streamed_answer_frees_the_sequence(client, server):
    body = {"model": "demo", "prompt": "Keep going", "max_tokens": 1000, "ignore_eos": True}
    aborted_before = aborted(client)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(server.url + "/v1/completions", json=body, timeout=0.3)
    # The request may not have started when the client gave up: wait for its abort, not just an idle engine.
    deadline = time.monotonic() + 10
    while metric(client, "leitai_running_sequences", "demo") != 0 or \
            metric(client, "leitai_kv_blocks_used", "demo") != 0 or aborted(client) != aborted_before + 1:
        assert time.monotonic() < deadline, "the abandoned request is still running"
        time.sleep(0.05)
    assert aborted(client) == aborted_before + 1


@pytest.mark.parametrize("body,param", [
    ({"model": "nope", "prompt": "x"}, "model"),
    ({"model": "demo", "prompt": ""}, "prompt"),
    ({"model": "demo", "prompt": []}, "prompt"),
    ({"model": "demo"}, "prompt"),
    ({"model": "demo", "prompt": "x" * 5000}, "prompt"),
    ({"model": "demo", "prompt": "x", "max_tokens": 0}, "max_tokens"),
    ({"model": "demo", "prompt": "x", "max_tokens": 10**6}, "max_tokens"),
    ({"model": "demo", "prompt": "x", "max_completion_tokens": -3}, "max_completion_tokens"),
    ({"model": "demo", "prompt": "x", "n": 2}, "n"),
    ({"model": "demo", "prompt": "x", "temperature": -1}, "temperature"),
    ({"model": "demo", "prompt": "x", "temperature": "hot"}, "temperature"),
    ({"model": "demo", "prompt": "x", "top_p": 0}, "top_p"),
    ({"model": "demo", "prompt": "x", "top_p": 1.5}, "top_p"),
    ({"model": "demo", "prompt": "x", "top_k": -5}, "top_k"),
    ({"model": "demo", "prompt": "x", "repetition_penalty": 0}, "repetition_penalty"),
    ({"model": "demo", "prompt": "x", "stop": [""]}, "stop"),
    ({"model": "demo", "prompt": "x", "seed": 1.5}, "seed"),
    ({"model": "demo", "prompt": "x", "presence_penalty": 0.5}, "presence_penalty"),
    ({"model": "demo", "prompt": "x", "stream": "yes"}, "stream"),
])
def test_bad_completion_requests_get_400_naming_the_field(client, body, param):
    r = client.post("/v1/completions", json=body)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["type"] == "invalid_request_error" and err["param"] == param and err["message"]


@pytest.mark.parametrize("messages", [[], None, [{"role": "user"}], [{"role": "robot", "content": "hi"}],
                                      [{"role": "user", "content": "  "}],
                                      [{"role": "user", "content": "你好" * 3000}]])
def test_bad_chat_messages_get_400(client, messages):
    r = client.post("/v1/chat/completions", json={"model": "demo", "messages": messages})
    assert r.status_code == 400 and r.json()["error"]["param"] == "messages", r.text


@pytest.mark.parametrize(("template", "message"), [
    ("model", "brings no chat template"), ("{% for m in messages %}", "does not compile"),
    ("chatml", "unknown chat template"), (5, "template name or Jinja source"), ("", "template name or Jinja source"),
    ("{{ raise_exception('no system turns here') }}", "no system turns here"),
])
def test_bad_chat_template_gets_400_naming_it(client, template, message):
    r = client.post("/v1/chat/completions", json={"model": "demo", "messages": CHAIN_QUESTION, "chat_template": template})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == "chat_template" and message in r.json()["error"]["message"]


@pytest.mark.parametrize("template", [
    "{% for i in range(4000) %}{% for j in range(4000) %}x{% endfor %}{% endfor %}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% for i in range(10**8) %}x{% endfor %}",
    "{{ 'x' * 10**9 }}",
])
def test_a_request_template_over_its_budget_is_a_400_and_the_server_goes_on(client, template):
    r = client.post("/v1/chat/completions", json={"model": "demo", "messages": CHAIN_QUESTION, "chat_template": template})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == "chat_template"
    assert client.get("/health").status_code == 200
    ok = client.post("/v1/chat/completions", json={"model": "demo", "messages": CHAIN_QUESTION, "max_tokens": 2})
    assert ok.status_code == 200, ok.text


def test_a_request_can_pick_the_chat_template(client):
    """The chain model answers only after its alpaca2 prompt; another template changes the prompt."""
    body = {"model": "chain", "messages": CHAIN_QUESTION, "max_tokens": 40, "temperature": 0}
    default = client.post("/v1/chat/completions", json=body).json()
    named = client.post("/v1/chat/completions", json={**body, "chat_template": "alpaca2"}).json()
    plain = client.post("/v1/chat/completions", json={**body, "chat_template": "plain"}).json()
    assert default["choices"][0]["message"]["content"] == named["choices"][0]["message"]["content"] == ANSWER
    assert default["usage"]["prompt_tokens"] == named["usage"]["prompt_tokens"]
    assert plain["usage"]["prompt_tokens"] < default["usage"]["prompt_tokens"]
    # Jinja source from the request renders the same ids as the built-in template it spells out
    jinja = client.post("/v1/chat/completions", json={
        **body, "chat_template": "{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}"}).json()
    assert jinja["usage"]["prompt_tokens"] == plain["usage"]["prompt_tokens"]


def test_malformed_json_gets_400(client):
    r = client.post("/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "body"


def test_overload_gets_429(client, server):
    long = {"model": "busy", "prompt": "a", "max_tokens": 1000, "ignore_eos": True, "stream": True}
    with httpx.Client(base_url=server.url, timeout=30) as first:
        with first.stream("POST", "/v1/completions", json=long) as r:
            lines = r.iter_lines()
            next(lines)
            next(lines)  # the role chunk goes before the engine takes the request: wait for that too
            deadline = time.monotonic() + 10
            while metric(client, "leitai_running_sequences", "busy") < 1:
                assert time.monotonic() < deadline
                time.sleep(0.02)
            with httpx.Client(base_url=server.url, timeout=30) as second:
                with second.stream("POST", "/v1/completions", json=long) as waiting:
                    deadline = time.monotonic() + 10
                    while metric(client, "leitai_waiting_sequences", "busy") < 1:
                        assert time.monotonic() < deadline
                        time.sleep(0.02)
                    r3 = client.post("/v1/completions", json={**long, "stream": False})
                    assert r3.status_code == 429, r3.text
                    assert r3.json()["error"]["type"] == "rate_limit_error"
                    assert waiting.status_code == 200


def test_metrics_exposes_the_documented_series(client):
    client.post("/v1/completions", json={"model": "demo", "prompt": "hi", "max_tokens": 3})
    text = client.get("/metrics").text
    for name in ("leitai_running_sequences", "leitai_waiting_sequences", "leitai_kv_blocks_used",
                 "leitai_kv_blocks_free", "leitai_generation_tokens_per_second", "leitai_preemptions_total",
                 "leitai_time_to_first_token_seconds_bucket", "leitai_requests_total"):
        assert name in text


def openai_error(r: httpx.Response, status: int, param: str | None, code: str | None = None) -> str:
    """Asserts OpenAI's error object (and nothing else) and returns its message."""
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}, body
    err = body["error"]
    assert err["type"] == "invalid_request_error" and err["param"] == param and err["code"] == code, err
    assert isinstance(err["message"], str) and err["message"]
    return err["message"]


def prompt_tokens(client: httpx.Client, prompt: str) -> int:
    return client.post("/v1/completions", json={"model": "short", "prompt": prompt, "max_tokens": 1}
                       ).json()["usage"]["prompt_tokens"]


@pytest.mark.parametrize("key", ["max_tokens", "max_completion_tokens"])
def test_max_tokens_past_the_context_is_context_length_exceeded(client, key):
    n = prompt_tokens(client, "Once upon a time")
    body = {"model": "short", "prompt": "Once upon a time", "ignore_eos": True, "temperature": 0}
    message = openai_error(client.post("/v1/completions", json={**body, key: SHORT_CONTEXT - n + 1}),
                           400, key, "context_length_exceeded")
    assert str(SHORT_CONTEXT) in message
    openai_error(client.post("/v1/completions", json={**body, key: 10**6}), 400, key, "context_length_exceeded")
    exact = client.post("/v1/completions", json={**body, key: SHORT_CONTEXT - n}).json()
    assert exact["usage"]["completion_tokens"] == SHORT_CONTEXT - n


def test_without_max_tokens_the_answer_gets_the_rest_of_the_context(client):
    for path, payload in [("/v1/completions", {"prompt": "Once upon a time"}),
                          ("/v1/chat/completions", {"messages": [{"role": "user", "content": "Hi"}]})]:
        out = client.post(path, json={"model": "short", "ignore_eos": True, **payload}).json()
        assert out["usage"]["total_tokens"] == SHORT_CONTEXT and out["choices"][0]["finish_reason"] == "length"


def test_a_prompt_that_fills_the_context_is_context_length_exceeded(client):
    long = "story " * SHORT_CONTEXT
    openai_error(client.post("/v1/completions", json={"model": "short", "prompt": long}),
                 400, "prompt", "context_length_exceeded")
    openai_error(client.post("/v1/chat/completions", json={"model": "short", "messages": [
        {"role": "user", "content": long}]}), 400, "messages", "context_length_exceeded")


@pytest.mark.parametrize("extra,param", [
    ({"logit_bias": {"50": 5}}, "logit_bias"),
    ({"response_format": {"type": "json_object"}}, "response_format"),
    ({"response_format": "json"}, "response_format"),
    ({"echo": True}, "echo"),
    ({"suffix": "the end"}, "suffix"),
    ({"n": 3}, "n"),
    ({"n": "1"}, "n"),
    ({"best_of": 2}, "best_of"),
    ({"logprobs": True}, "logprobs"),
    ({"logprobs": 2}, "logprobs"),
    ({"top_logprobs": 5}, "top_logprobs"),
    ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools"),
    ({"tool_choice": "required"}, "tool_choice"),
    ({"functions": [{"name": "f"}]}, "functions"),
    ({"function_call": {"name": "f"}}, "function_call"),
    ({"frequency_penalty": 0.5}, "frequency_penalty"),
    ({"modalities": ["text", "audio"]}, "modalities"),
    ({"audio": {"voice": "alloy"}}, "audio"),
])
@pytest.mark.parametrize("path,payload", [
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "Hi"}]}),
    ("/v1/completions", {"prompt": "Hi"}),
])
def test_unsupported_parameters_get_400_naming_them(client, path, payload, extra, param):
    message = openai_error(client.post(path, json={"model": "demo", "max_tokens": 2, **payload, **extra}),
                           400, param, "unsupported_parameter")
    assert param in message


def test_unsupported_parameters_at_their_defaults_are_accepted(client):
    defaults = {"n": 1, "best_of": 1, "echo": False, "suffix": None, "logprobs": False, "top_logprobs": 0,
                "logit_bias": {}, "response_format": {"type": "text"}, "tools": None, "tool_choice": "none",
                "frequency_penalty": 0, "presence_penalty": 0.0, "user": "someone", "stream": None,
                "stream_options": None, "seed": None, "metadata": {"k": "v"}}
    for path, payload in [("/v1/chat/completions", {"messages": [{"role": "user", "content": "Hi"}]}),
                          ("/v1/completions", {"prompt": "Hi"})]:
        r = client.post(path, json={"model": "demo", "max_tokens": 2, **defaults, **payload})
        assert r.status_code == 200, r.text


def test_stream_options_need_a_stream(client):
    body = {"model": "demo", "prompt": "Hi", "max_tokens": 2}
    openai_error(client.post("/v1/completions", json={**body, "stream_options": {"include_usage": True}}),
                 400, "stream_options")
    openai_error(client.post("/v1/completions", json={**body, "stream": True, "stream_options": {
        "include_usage": "yes"}}), 400, "stream_options")


def test_developer_role_is_the_system_turn_and_a_null_assistant_turn_is_empty(client):
    def usage(messages: list[dict]) -> dict:
        # Greedy: equal prompts then give equal answers, so the whole usage compares.
        r = client.post("/v1/chat/completions", json={"model": "demo", "max_tokens": 2, "temperature": 0,
                                                         "messages": messages})
        assert r.status_code == 200, r.text
        return r.json()["usage"]

    turns = [{"role": "user", "content": "Hi"}]
    assert usage([{"role": "developer", "content": "Be brief."}, *turns]) == \
        usage([{"role": "system", "content": "Be brief."}, *turns])
    history = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": None},
               {"role": "user", "content": "Again"}]
    assert usage(history)["prompt_tokens"] == usage([*history[:1], {**history[1], "content": ""},
                                                     *history[2:]])["prompt_tokens"]
    openai_error(client.post("/v1/chat/completions", json={"model": "demo", "messages": [
        {"role": "user", "content": None}]}), 400, "messages")


@pytest.mark.parametrize("body", [
    {"temperature": 1e-40}, {"temperature": 5e-324}, {"repetition_penalty": 1e-40},
    {"repetition_penalty": 1e-40, "temperature": 1e-40, "top_p": 1e-40}, {"repetition_penalty": 10},
])
def test_extreme_sampling_values_in_range_are_answered(client, body):
    """OpenAI accepts any temperature in [0, 2]; the sampler computes the tiny ones as their limit."""
    r = client.post("/v1/completions", json={"model": "demo", "prompt": "Hi Hi Hi", "max_tokens": 4, "ignore_eos": True,
                                             **body})
    assert r.status_code == 200 and r.json()["usage"]["completion_tokens"] == 4, r.text


@pytest.mark.parametrize("body,param", [
    ({"temperature": 2.5}, "temperature"), ({"temperature": 1e308}, "temperature"),
    ({"repetition_penalty": -1e-40}, "repetition_penalty"), ({"repetition_penalty": 11}, "repetition_penalty"),
])
def test_sampling_values_out_of_range_get_400(client, body, param):
    openai_error(client.post("/v1/completions", json={"model": "demo", "prompt": "Hi", "max_tokens": 2, **body}),
                 400, param)


def test_negative_zero_temperature_is_greedy(client):
    body = {"model": "demo", "prompt": "Once upon a time", "max_tokens": 8}
    greedy = client.post("/v1/completions", json={**body, "temperature": 0}).json()["choices"][0]["text"]
    assert client.post("/v1/completions", json={**body, "temperature": -0.0}).json()["choices"][0]["text"] == greedy


@pytest.mark.parametrize("path,raw,param,words", [
    ("/v1/chat/completions", '{"model": "demo", "messages": [{"role": "user", "content": "x\\ud800y"}]}',
     "messages", "surrogate"),
    ("/v1/completions", '{"model": "demo", "prompt": "\\udfff"}', "prompt", "surrogate"),
    ("/v1/completions", '{"model": "demo", "prompt": "Hi", "stop": ["\\udc00"]}', "stop", "surrogate"),
    ("/v1/chat/completions", '{"model": "demo", "messages": [{"role": "user", "content": "Hi"}], '
     '"chat_template": "{{ \\"\\ud800\\" }}"}', "chat_template", "surrogate"),
    ("/v1/chat/completions", "[" * 100_000, "body", "nests too deeply"),
    ("/v1/completions", '{"model": "demo", "prompt": "Hi", "temperature": NaN}', "body", "NaN"),
    ("/v1/completions", '{"model": "demo", "prompt": "Hi", "seed": ' + "9" * 5000 + "}", "body", "not valid JSON"),
    ("/v1/completions", b'{"model": "demo", "prompt": "\xff"}', "body", "not valid JSON"),
])
def test_undecodable_input_is_a_400_and_the_connection_keeps_working(client, path, raw, param, words):
    r = client.post(path, content=raw, headers={"content-type": "application/json"})
    assert words in openai_error(r, 400, param)
    again = client.post("/v1/completions", json={"model": "demo", "prompt": "Hi", "max_tokens": 2})
    assert again.status_code == 200, again.text


def test_routing_errors_use_the_openai_error_shape(client):
    assert "/v1/nothing" in openai_error(client.get("/v1/nothing"), 404, None, "not_found")
    r = client.get("/v1/chat/completions")
    assert "POST" in openai_error(r, 405, None, "method_not_allowed") and r.headers["allow"] == "POST"


def test_request_validation_errors_use_the_openai_error_shape():
    app = create_app([])

    @app.get("/typed")
    async def typed(n: int) -> dict:
        return {"n": n}

    with ServerThread(app) as srv, httpx.Client(base_url=srv.url) as c:
        assert c.get("/typed", params={"n": 3}).json() == {"n": 3}
        assert "n" in openai_error(c.get("/typed", params={"n": "x"}), 422, "n")


# Forty thousand cheap steps: within the render budget, but some tenths of a second on a CPU
COSTLY_TEMPLATE = ("{% set ns = namespace(n=0) %}{% for i in range(200) %}{% for j in range(200) %}"
                   "{% set ns.n = ns.n + j %}{% endfor %}{% endfor %}"
                   "{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}")


@pytest.fixture(scope="module")
def gated(tmp_path_factory):
    """A server of its own, so a test can watch (and hold) its model's tokenizer."""
    demo = write_demo_model(tmp_path_factory.mktemp("gated") / "demo", seed=1, name="demo")
    engine = LLMEngine.from_path(demo, EngineConfig(block_size=16, num_kv_blocks=64))
    with ServerThread(create_app([ServedModel("gated", engine, "alpaca2")])) as srv:
        yield srv, engine.tokenizer


def ask_in_background(url: str, body: dict, finished: list) -> threading.Thread:
    def ask() -> None:
        r = httpx.post(url + "/v1/chat/completions", json=body, timeout=60)
        finished.append(("chat", r.status_code, r.json()))
    thread = threading.Thread(target=ask, daemon=True)
    thread.start()
    return thread


def test_the_prompt_is_encoded_off_the_event_loop(gated, monkeypatch):
    srv, tok = gated
    entered, release = threading.Event(), threading.Event()
    encode = tok.encode

    def held(*args, **kwargs):
        entered.set()
        release.wait(30)
        return encode(*args, **kwargs)

    monkeypatch.setattr(tok, "encode", held)
    finished: list = []
    body = {"model": "gated", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2}
    thread = ask_in_background(srv.url, body, finished)
    try:
        assert entered.wait(10)
        # Were the prompt built on the event loop, /health would wait for the release (and time out).
        health = httpx.get(srv.url + "/health", timeout=5)
        finished.append(("health", health.status_code, health.json()))
    finally:
        release.set()
        thread.join(30)
    assert [(what, status) for what, status, _ in finished] == [("health", 200), ("chat", 200)]


def hold_request_template_renders(tok, monkeypatch) -> tuple[threading.Event, threading.Event]:
    """The render of a request's own template reads bos_token first: held there until released.
    Only in the render pool's threads, so everything else keeps using the tokenizer freely."""
    entered, release = threading.Event(), threading.Event()
    id_to_piece = tok.id_to_piece

    def held(token_id: int) -> str:
        if threading.current_thread().name.startswith("leitai-render"):
            entered.set()
            release.wait(30)
        return id_to_piece(token_id)

    monkeypatch.setattr(tok, "id_to_piece", held)
    return entered, release


def test_health_answers_while_a_request_chat_template_renders(gated, monkeypatch):
    srv, tok = gated
    entered, release = hold_request_template_renders(tok, monkeypatch)
    finished: list = []
    body = {"model": "gated", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2,
            "chat_template": COSTLY_TEMPLATE}
    thread = ask_in_background(srv.url, body, finished)
    try:
        assert entered.wait(10), "the template never started rendering"
        # Were the template rendered on the event loop, /health would wait for the release (and time out).
        health = httpx.get(srv.url + "/health", timeout=5)
        finished.append(("health", health.status_code, health.json()))
    finally:
        release.set()
        thread.join(30)
    assert [(what, status) for what, status, _ in finished] == [("health", 200), ("chat", 200)], finished


def test_request_templates_in_flight_are_bounded_and_others_do_not_wait(gated, monkeypatch):
    """A request's template that is still rendering delays neither plain requests nor built-in
    templates, and past MAX_TEMPLATE_RENDERS another request template is a 429."""
    srv, tok = gated
    monkeypatch.setattr("leitai_runtime.server.MAX_TEMPLATE_RENDERS", 1)
    entered, release = hold_request_template_renders(tok, monkeypatch)
    finished: list = []
    hi = [{"role": "user", "content": "Hi"}]
    held = {"model": "gated", "messages": hi, "max_tokens": 2, "chat_template": COSTLY_TEMPLATE}
    thread = ask_in_background(srv.url, held, finished)
    try:
        assert entered.wait(10), "the template never started rendering"
        with httpx.Client(base_url=srv.url, timeout=10) as c:
            over = c.post("/v1/chat/completions", json={**held, "chat_template": "{{ messages[0]['content'] }}"})
            assert over.status_code == 429, over.text
            err = over.json()["error"]
            assert err["type"] == "rate_limit_error" and err["param"] == "chat_template", err
            assert "too many template renders in flight" in err["message"]
            for path, extra in (("/v1/completions", {"prompt": "Hi"}), ("/v1/chat/completions", {"messages": hi}),
                                ("/v1/chat/completions", {"messages": hi, "chat_template": "plain"})):
                r = c.post(path, json={"model": "gated", "max_tokens": 2, **extra})
                assert r.status_code == 200, r.text
        assert not finished  # all of that while the request template was still held
    finally:
        release.set()
        thread.join(30)
    assert [(what, status) for what, status, _ in finished] == [("chat", 200)], finished
    # the slot is free again
    r = httpx.post(srv.url + "/v1/chat/completions", json={**held, "chat_template": "{{ messages[0]['content'] }}"},
                   timeout=30)
    assert r.status_code == 200, r.text


def test_a_request_template_too_long_to_compile_cheaply_is_a_400(client):
    from leitai_runtime.jinja_template import MAX_TEMPLATE_CHARS

    source = "{{ messages[0]['content'] }}" + " " * MAX_TEMPLATE_CHARS
    r = client.post("/v1/chat/completions", json={"model": "demo", "messages": [{"role": "user", "content": "Hi"}],
                                                  "chat_template": source})
    assert str(MAX_TEMPLATE_CHARS) in openai_error(r, 400, "chat_template")
