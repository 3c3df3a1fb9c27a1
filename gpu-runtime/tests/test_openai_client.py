"""The official OpenAI Python client against the server on a real socket: what it sends must
be accepted, what it parses must be there, and its typed errors must carry OpenAI's fields."""

from __future__ import annotations

import httpx
import openai
import pytest
from helpers_server import ServerThread

from leitai_runtime.config import EngineConfig
from leitai_runtime.demo import write_demo_model
from leitai_runtime.engine import LLMEngine
from leitai_runtime.server import ServedModel, create_app

SHORT_CONTEXT = 48
HI = [{"role": "user", "content": "Tell me a story"}]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    demo = write_demo_model(tmp_path_factory.mktemp("models") / "demo", seed=1, name="demo")
    cfg = EngineConfig(block_size=16, num_kv_blocks=64, max_num_seqs=4)
    short = EngineConfig(block_size=16, num_kv_blocks=64, max_model_len=SHORT_CONTEXT)
    app = create_app([ServedModel("demo", LLMEngine.from_path(demo, cfg), "alpaca2"),
                      ServedModel("short", LLMEngine.from_path(demo, short), "plain")])
    with ServerThread(app) as srv:
        yield srv


@pytest.fixture()
def client(server):
    # No retries: a 5xx must show up as one, not be papered over
    with openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0, timeout=60) as c:
        yield c


def test_models_list_and_retrieve(client):
    assert [m.id for m in client.models.list()] == ["demo", "short"]
    model = client.models.retrieve("short")
    assert model.id == "short" and model.object == "model" and model.owned_by == "leitai"
    with pytest.raises(openai.NotFoundError) as err:
        client.models.retrieve("gpt-4o")
    assert err.value.code == "model_not_found" and err.value.param == "model"


@pytest.mark.parametrize("include_usage", [None, True, False])
def test_chat_stream_matches_non_stream(client, include_usage):
    args = {"model": "demo", "messages": HI, "temperature": 0, "max_tokens": 12}
    whole = client.chat.completions.create(**args)
    assert whole.object == "chat.completion" and whole.choices[0].message.role == "assistant"
    assert whole.usage is not None and whole.usage.completion_tokens == 12  # a random model rarely stops
    options = {} if include_usage is None else {"stream_options": {"include_usage": include_usage}}
    chunks = list(client.chat.completions.create(**args, stream=True, **options))
    if include_usage:
        *chunks, last = chunks
        assert last.choices == [] and last.usage == whole.usage
    assert all(c.usage is None for c in chunks) and all(len(c.choices) == 1 for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == whole.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == whole.choices[0].finish_reason == "length"


@pytest.mark.parametrize("include_usage", [None, True])
def test_completion_stream_matches_non_stream(client, include_usage):
    args = {"model": "demo", "prompt": "Once upon a time", "temperature": 0, "max_tokens": 12}
    whole = client.completions.create(**args)
    assert whole.object == "text_completion" and whole.usage is not None
    options = {} if include_usage is None else {"stream_options": {"include_usage": include_usage}}
    chunks = list(client.completions.create(**args, stream=True, **options))
    if include_usage:
        *chunks, last = chunks
        assert last.choices == [] and last.usage == whole.usage
    assert all(c.usage is None for c in chunks)
    assert "".join(c.choices[0].text for c in chunks) == whole.choices[0].text
    assert chunks[-1].choices[0].finish_reason == whole.choices[0].finish_reason


def test_developer_role_and_an_assistant_turn_without_content(client):
    developer = client.chat.completions.create(
        model="demo", max_tokens=2, messages=[{"role": "developer", "content": "Be brief."}, *HI])
    system = client.chat.completions.create(
        model="demo", max_tokens=2, messages=[{"role": "system", "content": "Be brief."}, *HI])
    assert developer.usage.prompt_tokens == system.usage.prompt_tokens
    history = [*HI, {"role": "assistant", "content": None}, {"role": "user", "content": "Go on"}]
    assert client.chat.completions.create(model="demo", max_tokens=2, messages=history).choices[0].message


def test_context_length_exceeded(client):
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="short", messages=HI, max_tokens=SHORT_CONTEXT)
    assert err.value.code == "context_length_exceeded" and err.value.param == "max_tokens"
    assert str(SHORT_CONTEXT) in err.value.message
    with pytest.raises(openai.BadRequestError) as err:
        client.completions.create(model="short", prompt="story " * SHORT_CONTEXT)
    assert err.value.code == "context_length_exceeded" and err.value.param == "prompt"
    # no max_tokens: the answer fills what the prompt leaves
    out = client.completions.create(model="short", prompt="Once upon a time", extra_body={"ignore_eos": True})
    assert out.usage.total_tokens == SHORT_CONTEXT and out.choices[0].finish_reason == "length"


@pytest.mark.parametrize("kwargs,param", [
    ({"logit_bias": {"42": 10}}, "logit_bias"),
    ({"response_format": {"type": "json_object"}}, "response_format"),
    ({"n": 2}, "n"),
    ({"logprobs": True, "top_logprobs": 2}, "logprobs"),
    ({"tools": [{"type": "function", "function": {"name": "weather", "parameters": {}}}]}, "tools"),
    ({"presence_penalty": 1.0}, "presence_penalty"),
])
def test_unsupported_chat_parameters_are_refused_by_name(client, kwargs, param):
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="demo", messages=HI, max_tokens=2, **kwargs)
    assert err.value.param == param and param in err.value.message and err.value.type == "invalid_request_error"


@pytest.mark.parametrize("kwargs,param", [
    ({"echo": True}, "echo"), ({"suffix": "The end."}, "suffix"), ({"best_of": 3}, "best_of"),
    ({"logprobs": 1}, "logprobs"),
])
def test_unsupported_completion_parameters_are_refused_by_name(client, kwargs, param):
    with pytest.raises(openai.BadRequestError) as err:
        client.completions.create(model="demo", prompt="Hi", max_tokens=2, **kwargs)
    assert err.value.param == param and param in err.value.message


def test_defaults_of_unsupported_parameters_are_accepted(client):
    out = client.chat.completions.create(model="demo", messages=HI, max_tokens=2, n=1, logprobs=False,
                                         response_format={"type": "text"}, frequency_penalty=0, user="u")
    assert len(out.choices) == 1
    assert client.completions.create(model="demo", prompt="Hi", max_tokens=2, echo=False, best_of=1).choices


def test_wrong_method_and_unknown_route_get_the_error_shape(server):
    with httpx.Client(base_url=server.url) as c:
        for r, status in [(c.get("/v1/chat/completions"), 405), (c.put("/v1/models"), 405),
                          (c.post("/v1/embeddings", json={}), 404)]:
            assert r.status_code == status
            err = r.json()["error"]
            assert set(err) == {"message", "type", "param", "code"} and err["type"] == "invalid_request_error"
