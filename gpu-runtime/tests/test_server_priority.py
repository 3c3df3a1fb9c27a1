"""`priority` on the HTTP API: validated like the other fields, and a streamed pre-generation
answer that a live request preempts streams exactly the text it would have alone."""

from __future__ import annotations

import time

import httpx
import pytest
from helpers_server import ServerThread, sse_events
from prometheus_client.parser import text_string_to_metric_families

from leitai_runtime.config import EngineConfig
from leitai_runtime.demo import write_demo_model
from leitai_runtime.engine import LLMEngine
from leitai_runtime.server import ServedModel, create_app

LONG = 1500  # tokens: the pre-generation answer is still streaming when the live request arrives


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    demo = write_demo_model(tmp_path_factory.mktemp("models") / "demo", seed=1, name="demo")
    # One sequence at a time: a live request can only start by preempting the one running.
    solo = EngineConfig(block_size=16, num_kv_blocks=160, max_num_seqs=1)
    with ServerThread(create_app([ServedModel("solo", LLMEngine.from_path(demo, solo), "alpaca2")])) as srv:
        yield srv


@pytest.fixture()
def client(server):
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


def preemptions(client: httpx.Client, reason: str) -> float:
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == "leitai_preemptions_total" and sample.labels == {"model": "solo", "reason": reason}:
                return sample.value
    raise AssertionError(f"no leitai_preemptions_total for reason {reason}")


def wait_until_running(client: httpx.Client, sequences: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        for family in text_string_to_metric_families(client.get("/metrics").text):
            for sample in family.samples:
                if sample.name == "leitai_running_sequences" and sample.labels == {"model": "solo"} and \
                        sample.value == sequences:
                    return
        assert time.monotonic() < deadline, f"never {sequences} running sequences"
        time.sleep(0.01)


@pytest.mark.parametrize("path,payload", [
    ("/v1/completions", {"prompt": "Once upon a time"}),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "Tell me a story"}]}),
])
@pytest.mark.parametrize("priority", [-1001, 1001, 1.5, 10.0, "0", True, [0]])
def test_a_bad_priority_gets_400_naming_the_field(client, path, payload, priority):
    r = client.post(path, json={"model": "solo", "max_tokens": 2, "priority": priority, **payload})
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["type"] == "invalid_request_error" and err["param"] == "priority" and err["message"]


@pytest.mark.parametrize("path,payload", [
    ("/v1/completions", {"prompt": "Once upon a time"}),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "Tell me a story"}]}),
])
@pytest.mark.parametrize("priority", [-1000, 0, 10, 1000, None])
def test_a_priority_in_range_is_accepted(client, path, payload, priority):
    r = client.post(path, json={"model": "solo", "max_tokens": 2, "priority": priority, **payload})
    assert r.status_code == 200, r.text


def test_a_preempted_pregeneration_stream_carries_exactly_its_uninterrupted_text(client, server):
    pregen = {"model": "solo", "prompt": "Once upon a time", "max_tokens": LONG, "ignore_eos": True,
              "temperature": 0, "priority": 10}
    alone = client.post("/v1/completions", json=pregen).json()["choices"][0]["text"]
    live = {"model": "solo", "messages": [{"role": "user", "content": "你好"}], "max_tokens": 8, "temperature": 0}
    live_alone = client.post("/v1/chat/completions", json=live).json()["choices"][0]["message"]["content"]
    before = preemptions(client, "priority")
    with httpx.Client(base_url=server.url, timeout=60) as streaming:
        with streaming.stream("POST", "/v1/completions",
                              json={**pregen, "stream": True, "stream_options": {"include_usage": True}}) as r:
            lines = r.iter_lines()
            head = [next(lines) for _ in range(6)]  # the role chunk and a few of text: it is running
            # Each live request is answered while the pre-generation one still has most of its tokens to go.
            for _ in range(2):
                # The pre-generation answer runs again first (after a live one, it waits for a step):
                # each live request then has to preempt it.
                wait_until_running(client, 1)
                answer = client.post("/v1/chat/completions", json=live).json()
                assert answer["choices"][0]["message"]["content"] == live_alone
            events = sse_events(head + list(lines))
    assert preemptions(client, "priority") == before + 2
    assert events[-1] == "[DONE]"
    *chunks, usage = [e for e in events[:-1] if isinstance(e, dict)]
    assert "".join(c["choices"][0]["text"] for c in chunks) == alone
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    # Usage comes as OpenAI sends it when asked: a last chunk of its own, with no choices.
    assert usage["choices"] == [] and usage["usage"]["completion_tokens"] == LONG
