"""OpenAI-compatible request parsing: a JSON body in, typed values out, or an ApiError that
names the offending field (HTTP 400, `invalid_request_error`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .sequence import DEFAULT_PRIORITY, MAX_PRIORITY, MIN_PRIORITY, InvalidParamsError, SamplingParams

MAX_STOP_STRINGS = 16


class ApiError(Exception):
    def __init__(self, status: int, message: str, param: str | None = None,
                 type_: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.type = status, message, param, type_

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": None}}


def bad(param: str, message: str) -> ApiError:
    return ApiError(400, message, param)


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


def _number(body: dict[str, Any], key: str, default: float, lo: float, hi: float,
            lo_open: bool = False) -> float:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise bad(key, f"{key} must be a number, got {value!r}")
    if value < lo or value > hi or (lo_open and value == lo):
        interval = f"({lo}, {hi}]" if lo_open else f"[{lo}, {hi}]"
        raise bad(key, f"{key} must be in {interval}, got {value}")
    return float(value)


def _integer(body: dict[str, Any], key: str, default: int | None, lo: int, hi: int) -> int | None:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad(key, f"{key} must be an integer, got {value!r}")
    if not lo <= value <= hi:
        raise bad(key, f"{key} must be between {lo} and {hi}, got {value}")
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
    return tuple(items)


def _unsupported(body: dict[str, Any]) -> None:
    if body.get("n", 1) != 1:
        raise bad("n", "only n=1 is supported")
    if body.get("best_of", 1) not in (1, None):
        raise bad("best_of", "only best_of=1 is supported")
    for key in ("frequency_penalty", "presence_penalty"):
        if body.get(key, 0) not in (0, 0.0, None):
            raise bad(key, f"{key} is not supported; use repetition_penalty")
    if body.get("logprobs") not in (None, False, 0) or body.get("top_logprobs") not in (None, 0):
        raise bad("logprobs", "logprobs are not supported")
    if body.get("tools") or body.get("functions"):
        raise bad("tools", "tools and function calling are not supported")
    if not isinstance(body.get("stream", False), bool):
        raise bad("stream", "stream must be true or false")


def sampling_params(body: dict[str, Any], max_context: int) -> tuple[SamplingParams, bool]:
    """SamplingParams from an OpenAI body (plus top_k, repetition_penalty, seed, ignore_eos)."""
    _unsupported(body)
    key = "max_completion_tokens" if body.get("max_completion_tokens") is not None else "max_tokens"
    max_tokens = _integer(body, key, None, 1, max_context)
    top_k = _integer(body, "top_k", 0, -1, 1 << 30)
    seed = _integer(body, "seed", None, -(1 << 63), (1 << 63) - 1)
    ignore_eos = body.get("ignore_eos", False)
    if not isinstance(ignore_eos, bool):
        raise bad("ignore_eos", "ignore_eos must be true or false")
    try:
        params = SamplingParams(
            temperature=_number(body, "temperature", 1.0, 0.0, 2.0),
            top_p=_number(body, "top_p", 1.0, 0.0, 1.0, lo_open=True),
            top_k=max(top_k or 0, 0),
            repetition_penalty=_number(body, "repetition_penalty", 1.0, 0.0, 10.0, lo_open=True),
            seed=seed,
            max_tokens=max_tokens or max_context,
            stop=_stop(body),
            ignore_eos=ignore_eos,
        )
    except InvalidParamsError as err:
        raise bad(err.param, str(err)) from None
    return params, max_tokens is not None


def _messages(body: dict[str, Any]) -> list[dict[str, str]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad("messages", "messages must be a non-empty list of {role, content} objects")
    out: list[dict[str, str]] = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise bad("messages", f"messages[{i}] must be an object")
        content = m.get("content")
        if isinstance(content, list):  # [{"type": "text", "text": ...}, ...]
            texts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"]
            if len(texts) != len(content) or not all(isinstance(t, str) for t in texts):
                raise bad("messages", f"messages[{i}].content: only text parts are supported")
            content = "".join(t for t in texts if t)
        if not isinstance(content, str):
            raise bad("messages", f"messages[{i}].content must be a string")
        out.append({"role": str(m.get("role")), "content": content})
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
        return prompt
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
        raise bad("model", f"unknown model {model!r}; served models: {', '.join(sorted(models))}")
    payload = _messages(body) if chat else _prompt(body)
    params, given = sampling_params(body, models[model])
    priority = _integer(body, "priority", DEFAULT_PRIORITY, MIN_PRIORITY, MAX_PRIORITY)
    assert priority is not None  # it has a default
    if chat:
        template = body.get("chat_template")
        if template is not None and (not isinstance(template, str) or not template.strip()):
            raise bad("chat_template", "chat_template must be a template name or Jinja source")
        return CompletionRequest(model, body.get("stream", False), params, given, messages=payload,  # type: ignore[arg-type]
                                 chat_template=template, priority=priority)
    return CompletionRequest(model, body.get("stream", False), params, given, prompt=payload,  # type: ignore[arg-type]
                             priority=priority)
