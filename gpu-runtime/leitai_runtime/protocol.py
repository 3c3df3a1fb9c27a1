"""OpenAI-compatible request parsing: a JSON body in, typed values out, or an ApiError that
names the offending field (HTTP 400, `invalid_request_error`)."""

from __future__ import annotations

import json
import math
import re
import reprlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .jinja_template import MAX_TEMPLATE_CHARS
from .sequence import DEFAULT_PRIORITY, MAX_PRIORITY, MIN_PRIORITY, InvalidParamsError, SamplingParams

MAX_STOP_STRINGS = 16
# OpenAI's range; the sampler computes a temperature too small for float32 as its limit.
MAX_TEMPERATURE = 2.0
# HF semantics: > 0 (1 is off); the sampler keeps a tiny one's logits finite.
MAX_REPETITION_PENALTY = 10.0

CONTEXT_LENGTH_EXCEEDED = "context_length_exceeded"
UNSUPPORTED_PARAMETER = "unsupported_parameter"
MODEL_NOT_FOUND = "model_not_found"

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Error messages quote what the client sent: short, and never deep enough to recurse far.
_repr = reprlib.Repr()
_repr.maxlevel, _repr.maxstring, _repr.maxother, _repr.maxlong = 3, 60, 60, 40


def show(value: Any) -> str:
    return _repr.repr(value)


class ApiError(Exception):
    def __init__(self, status: int, message: str, param: str | None = None,
                 type_: str = "invalid_request_error", code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.type, self.code = status, message, param, type_, code

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def bad(param: str | None, message: str, code: str | None = None) -> ApiError:
    return ApiError(400, message, param, code=code)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def parse_json(raw: bytes) -> Any:
    """The request body as Python values; 400 for anything JSON (RFC 8259) does not allow."""
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except RecursionError:  # "[[[[..." a hundred thousand deep
        raise bad("body", "the request body nests too deeply") from None
    except ValueError as err:  # bad JSON, bad UTF-8, NaN/Infinity, integers past Python's digit limit
        raise bad("body", f"the request body is not valid JSON: {err}") from None


@dataclass
class CompletionRequest:
    model: str
    stream: bool
    params: SamplingParams
    max_tokens_given: bool
    messages: list[dict[str, str]] | None = None  # chat
    prompt: str | list[int] | None = None          # completions
    chat_template: str | None = None               # a built-in name, "model", or Jinja source
    priority: int = DEFAULT_PRIORITY               # lower is more urgent (vLLM's convention)
    include_usage: bool = False                    # stream_options.include_usage: a final usage chunk
    max_tokens_param: str = "max_tokens"           # the field the client used (or max_completion_tokens)


def _text(value: str, param: str, where: str) -> str:
    """Refuse a lone UTF-16 surrogate ("\\ud800" in JSON): no tokenizer can encode it."""
    found = _LONE_SURROGATE.search(value)
    if found:
        raise bad(param, f"{where} contains a lone UTF-16 surrogate (U+{ord(found.group()):04X} at index "
                         f"{found.start()}); text must be valid Unicode")
    return value


def _number(body: dict[str, Any], key: str, default: float, lo: float, hi: float,
            lo_open: bool = False) -> float:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise bad(key, f"{key} must be a number, got {show(value)}")
    if value < lo or value > hi or (lo_open and value == lo):
        interval = f"({lo}, {hi}]" if lo_open else f"[{lo}, {hi}]"
        raise bad(key, f"{key} must be in {interval}, got {value}")
    return float(value) + 0.0  # -0.0 -> 0.0


def _integer(body: dict[str, Any], key: str, default: int | None, lo: int, hi: int) -> int | None:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad(key, f"{key} must be an integer, got {show(value)}")
    if not lo <= value <= hi:
        raise bad(key, f"{key} must be between {lo} and {hi}, got {show(value)}")
    return value


def _flag(body: dict[str, Any], key: str) -> bool:
    value = body.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise bad(key, f"{key} must be true or false, got {show(value)}")
    return value


def _stop(body: dict[str, Any]) -> tuple[str, ...]:
    stop = body.get("stop")
    if stop is None:
        return ()
    items = [stop] if isinstance(stop, str) else stop
    if not isinstance(items, list) or not all(isinstance(s, str) and s for s in items):
        raise bad("stop", "stop must be a non-empty string or a list of non-empty strings")
    if len(items) > MAX_STOP_STRINGS:
        raise bad("stop", f"at most {MAX_STOP_STRINGS} stop strings are supported")
    return tuple(_text(s, "stop", "a stop string") for s in items)


def _is_int(value: Any, *allowed: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value in allowed


def _zero(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == 0


# OpenAI fields this server cannot honour, each with the values that mean "off" (accepted,
# since clients often send the defaults explicitly). Anything else is a 400 naming the field.
_OFF_VALUES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "n": (lambda v: _is_int(v, 1), "only n=1 is supported"),
    "best_of": (lambda v: _is_int(v, 1), "only best_of=1 is supported"),
    "echo": (lambda v: v is False, "echo is not supported"),
    "suffix": (lambda v: v == "", "suffix (insertion) is not supported"),
    "logprobs": (lambda v: v is False, "logprobs are not supported"),
    "top_logprobs": (lambda v: _is_int(v, 0), "top_logprobs are not supported"),
    "logit_bias": (lambda v: v == {}, "logit_bias is not supported"),
    "frequency_penalty": (_zero, "frequency_penalty is not supported; use repetition_penalty"),
    "presence_penalty": (_zero, "presence_penalty is not supported; use repetition_penalty"),
    "response_format": (lambda v: isinstance(v, dict) and v.get("type") == "text",
                        'only response_format {"type": "text"} is supported'),
    "tools": (lambda v: v == [], "tools and function calling are not supported"),
    "functions": (lambda v: v == [], "tools and function calling are not supported"),
    "tool_choice": (lambda v: v in ("none", "auto"), "tools and function calling are not supported"),
    "function_call": (lambda v: v in ("none", "auto"), "tools and function calling are not supported"),
    "modalities": (lambda v: v == ["text"], "only text output is supported"),
    "audio": (lambda v: False, "audio output is not supported"),
    "prediction": (lambda v: False, "predicted outputs are not supported"),
    "web_search_options": (lambda v: False, "web search is not supported"),
    "reasoning_effort": (lambda v: False, "reasoning_effort is not supported by these models"),
}


def _unsupported(body: dict[str, Any]) -> None:
    for key, (off, message) in _OFF_VALUES.items():
        value = body.get(key)
        if value is not None and not off(value):
            raise bad(key, f"{message}; got {key}={show(value)}", UNSUPPORTED_PARAMETER)


def sampling_params(body: dict[str, Any], max_context: int) -> tuple[SamplingParams, bool]:
    """SamplingParams from an OpenAI body (plus top_k, repetition_penalty, seed, ignore_eos).

    Without max_tokens the answer may fill the context; the server lowers that to what the
    prompt leaves (and refuses an explicit max_tokens that does not fit)."""
    _unsupported(body)
    key = _max_tokens_key(body)
    max_tokens = _integer(body, key, None, 1, 1 << 63)
    if max_tokens is not None and max_tokens > max_context:
        raise bad(key, f"{key} is {max_tokens}, but this model's context is {max_context} tokens, "
                       "prompt included", CONTEXT_LENGTH_EXCEEDED)
    top_k = _integer(body, "top_k", 0, -1, 1 << 30)
    seed = _integer(body, "seed", None, -(1 << 63), (1 << 63) - 1)
    try:
        params = SamplingParams(
            temperature=_number(body, "temperature", 1.0, 0.0, MAX_TEMPERATURE),
            top_p=_number(body, "top_p", 1.0, 0.0, 1.0, lo_open=True),
            top_k=max(top_k or 0, 0),
            repetition_penalty=_number(body, "repetition_penalty", 1.0, 0.0, MAX_REPETITION_PENALTY, lo_open=True),
            seed=seed,
            max_tokens=max_tokens or max_context,
            stop=_stop(body),
            ignore_eos=_flag(body, "ignore_eos"),
        )
    except InvalidParamsError as err:
        raise bad(err.param, str(err)) from None
    return params, max_tokens is not None


def _max_tokens_key(body: dict[str, Any]) -> str:
    return "max_completion_tokens" if body.get("max_completion_tokens") is not None else "max_tokens"


def _stream(body: dict[str, Any]) -> tuple[bool, bool]:
    """(stream, include_usage). OpenAI refuses stream_options on a request that does not stream."""
    stream = _flag(body, "stream")
    options = body.get("stream_options")
    if options is None:
        return stream, False
    if not isinstance(options, dict):
        raise bad("stream_options", f"stream_options must be an object, got {show(options)}")
    if not stream:
        raise bad("stream_options", "stream_options is only allowed when stream is true")
    include_usage = options.get("include_usage")
    if include_usage is not None and not isinstance(include_usage, bool):
        raise bad("stream_options", f"stream_options.include_usage must be true or false, got {show(include_usage)}")
    return stream, bool(include_usage)


def _messages(body: dict[str, Any]) -> list[dict[str, str]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad("messages", "messages must be a non-empty list of {role, content} objects")
    out: list[dict[str, str]] = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise bad("messages", f"messages[{i}] must be an object")
        role = m.get("role")
        if not isinstance(role, str):
            raise bad("messages", f"messages[{i}].role must be a string, got {show(role)}")
        if role == "developer":  # OpenAI's newer name for the system turn
            role = "system"
        content = m.get("content")
        if content is None and role == "assistant":  # a past turn that only called tools
            content = ""
        if isinstance(content, list):  # [{"type": "text", "text": ...}, ...]
            texts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"]
            if len(texts) != len(content) or not all(isinstance(t, str) for t in texts):
                raise bad("messages", f"messages[{i}].content: only text parts are supported")
            content = "".join(t for t in texts if t)
        if not isinstance(content, str):
            raise bad("messages", f"messages[{i}].content must be a string")
        out.append({"role": _text(role, "messages", f"messages[{i}].role"),
                    "content": _text(content, "messages", f"messages[{i}].content")})
    if not any(m["content"].strip() for m in out):
        raise bad("messages", "messages are all empty")
    return out


def _prompt(body: dict[str, Any]) -> str | list[int]:
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if isinstance(prompt, str):
        if not prompt:
            raise bad("prompt", "prompt is empty")
        return _text(prompt, "prompt", "prompt")
    if isinstance(prompt, list) and prompt and all(isinstance(t, int) and not isinstance(t, bool) for t in prompt):
        return prompt
    if isinstance(prompt, list) and not prompt:
        raise bad("prompt", "prompt is empty")
    raise bad("prompt", "prompt must be a non-empty string or a list of token ids (one prompt per request)")


def parse_request(body: Any, chat: bool, models: dict[str, int]) -> CompletionRequest:
    """`models` maps served model ids to their context length."""
    if not isinstance(body, dict):
        raise bad("body", "the request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or model not in models:
        raise bad("model", f"unknown model {show(model)}; served models: {', '.join(sorted(models))}",
                  MODEL_NOT_FOUND)
    messages = _messages(body) if chat else None
    prompt = None if chat else _prompt(body)
    params, given = sampling_params(body, models[model])
    stream, include_usage = _stream(body)
    priority = _integer(body, "priority", DEFAULT_PRIORITY, MIN_PRIORITY, MAX_PRIORITY)
    assert priority is not None  # it has a default
    key = _max_tokens_key(body)
    if chat:
        template = body.get("chat_template")
        if template is not None and (not isinstance(template, str) or not template.strip()):
            raise bad("chat_template", "chat_template must be a template name or Jinja source")
        if template is not None:
            if len(template) > MAX_TEMPLATE_CHARS:  # compiling it is not budgeted: keep it small
                raise bad("chat_template", f"chat_template is {len(template)} characters long; at most "
                                           f"{MAX_TEMPLATE_CHARS} are accepted")
            _text(template, "chat_template", "chat_template")
        return CompletionRequest(model, stream, params, given, messages=messages, chat_template=template,
                                 priority=priority, include_usage=include_usage, max_tokens_param=key)
    return CompletionRequest(model, stream, params, given, prompt=prompt, priority=priority,
                             include_usage=include_usage, max_tokens_param=key)
