"""The HTTP server on a real socket: OpenAI shapes, streaming, disconnects, errors, overload."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from helpers_server import CHAIN_QUESTION, ServerThread, sse_events, write_chain_model

from leitai_runtime.config import EngineConfig
from leitai_runtime.demo import write_demo_model
from leitai_runtime.engine import LLMEngine
from leitai_runtime.server import ServedModel, create_app

ANSWER = "你好，世界！龘🙂"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    demo = write_demo_model(root / "demo", seed=1, name="demo")
    chain, _ = write_chain_model(root / "chain", ANSWER)
    cfg = EngineConfig(block_size=16, num_kv_blocks=64, max_num_seqs=8, max_num_batched_tokens=256)
    busy_cfg = EngineConfig(block_size=16, num_kv_blocks=64, max_num_seqs=1, max_waiting=1)
    app = create_app([
        ServedModel("demo", LLMEngine.from_path(demo, cfg), "alpaca2"),
        ServedModel("chain", LLMEngine.from_path(chain, cfg), "alpaca2"),
        ServedModel("busy", LLMEngine.from_path(demo, busy_cfg), "plain"),
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
    assert ids == ["demo", "chain", "busy"]


@pytest.mark.parametrize("path,payload", [
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "Tell me a story"}]}),
    ("/v1/completions", {"prompt": "Once upon a time"}),
])
def test_stream_equals_non_stream(client, path, payload):
    body = {"model": "demo", "temperature": 0, "max_tokens": 24, **payload}
    whole = client.post(path, json=body).json()
    events = stream_events(client, path, body)
    assert events[-1] == "[DONE]"
    chunks = [e for e in events[:-1] if isinstance(e, dict)]
    if path.endswith("chat/completions"):
        text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
        assert whole["choices"][0]["message"]["content"] == text
        assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    else:
        text = "".join(c["choices"][0]["text"] for c in chunks)
        assert whole["choices"][0]["text"] == text
    assert chunks[-1]["usage"] == whole["usage"]
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
    deadline = time.monotonic() + 10
    while metric(client, "leitai_running_sequences", "demo") != 0 or \
            metric(client, "leitai_kv_blocks_used", "demo") != 0:
        assert time.monotonic() < deadline, "the aborted sequence still holds blocks"
        time.sleep(0.05)
    assert aborted(client) >= 1


def test_disconnect_while_waiting_for_a_non_streamed_answer_frees_the_sequence(client, server):
    body = {"model": "demo", "prompt": "Keep going", "max_tokens": 1000, "ignore_eos": True}
    aborted_before = aborted(client)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(server.url + "/v1/completions", json=body, timeout=0.3)
    deadline = time.monotonic() + 10
    while metric(client, "leitai_running_sequences", "demo") != 0 or \
            metric(client, "leitai_kv_blocks_used", "demo") != 0:
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
            next(lines)  # the first request is running; the next one will wait
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
