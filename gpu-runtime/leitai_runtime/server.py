"""OpenAI-compatible HTTP server: /v1/chat/completions, /v1/completions, /v1/models,
/health, /metrics. One EngineDriver per served model; a client that disconnects has its
request aborted so its KV blocks are freed."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from .driver import EngineDriver, EngineFailure
from .engine import LLMEngine, RequestOutput
from .jinja_template import JinjaChatTemplate, TemplateError
from .metrics import Metrics
from .protocol import ApiError, CompletionRequest, bad, parse_request
from .scheduler import QueueFullError
from .sequence import InvalidParamsError
from .templates import Template, encode_chat, encode_completion, resolve_template, template_name

DISCONNECT_POLL_S = 0.5


@dataclass
class ServedModel:
    name: str
    engine: LLMEngine
    chat_template: Template = "alpaca2"  # used when a request names none
    system_prompt: str | None = None
    display_name: str | None = None


def _error(err: ApiError) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status)


def _usage(out: RequestOutput) -> dict[str, int]:
    return {"prompt_tokens": out.num_prompt_tokens, "completion_tokens": out.num_output_tokens,
            "total_tokens": out.num_prompt_tokens + out.num_output_tokens}


class _Call:
    """One request's response shape: chat.completion(.chunk) or text_completion."""

    def __init__(self, chat: bool, model: str) -> None:
        self.chat, self.model = chat, model
        self.id = ("chatcmpl-" if chat else "cmpl-") + uuid.uuid4().hex
        self.created = int(time.time())

    def _envelope(self, choice: dict[str, Any], chunk: bool) -> dict[str, Any]:
        kind = ("chat.completion" if self.chat else "text_completion") + (".chunk" if chunk and self.chat else "")
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model, "choices": [choice]}

    def chunk(self, text: str | None, finish_reason: str | None, first: bool = False) -> dict[str, Any]:
        if self.chat:
            delta: dict[str, Any] = {"role": "assistant", "content": ""} if first else {}
            if text:
                delta["content"] = text
            return self._envelope({"index": 0, "delta": delta, "finish_reason": finish_reason}, True)
        return self._envelope({"index": 0, "text": text or "", "finish_reason": finish_reason, "logprobs": None},
                              True)

    def whole(self, text: str, finish_reason: str | None, usage: dict[str, int]) -> dict[str, Any]:
        if self.chat:
            choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": text},
                                      "finish_reason": finish_reason}
        else:
            choice = {"index": 0, "text": text, "finish_reason": finish_reason, "logprobs": None}
        return {**self._envelope(choice, False), "usage": usage}


def _sse(data: dict[str, Any] | str) -> str:
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"data: {payload}\n\n"


def create_app(models: list[ServedModel]) -> FastAPI:
    served = {m.name: m for m in models}
    drivers: dict[str, EngineDriver] = {}
    metrics = Metrics(lambda: {name: m.engine.stats() for name, m in served.items()})

    def observer(name: str):
        def on_output(out: RequestOutput) -> None:
            if out.time_to_first_token is not None:
                metrics.observe_ttft(name, out.time_to_first_token)
        return on_output

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for name, m in served.items():
            drivers[name] = EngineDriver(m.engine, observer(name))
            drivers[name].start()
        yield
        for d in drivers.values():
            await d.stop()

    app = FastAPI(title="Leitai gpu-runtime", lifespan=lifespan)

    def prompt_ids(req: CompletionRequest) -> tuple[list[int], tuple[int, ...]]:
        """The prompt, and the extra stop ids its chat template ends a turn with."""
        m = served[req.model]
        tok = m.engine.tokenizer
        if tok is None:
            raise bad("model", f"model {req.model!r} has no tokenizer")
        if req.messages is not None:
            template = m.chat_template
            if req.chat_template is not None:
                try:
                    template = resolve_template(req.chat_template, m.engine.chat_template)
                except TemplateError as err:
                    raise bad("chat_template", str(err)) from None
            try:
                ids = encode_chat(tok, req.messages, template, m.system_prompt)
            except TemplateError as err:
                raise bad("chat_template" if req.chat_template else "messages", str(err)) from None
            except ValueError as err:
                raise bad("messages", str(err)) from None
            stops = template.end_of_turn_ids(tok) if isinstance(template, JinjaChatTemplate) else ()
            return ids, stops
        if isinstance(req.prompt, list):
            return list(req.prompt), ()
        return encode_completion(tok, req.prompt or ""), ()

    async def handle(request: Request, chat: bool) -> Response:
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            return _error(bad("body", f"the request body is not valid JSON: {err}"))
        try:
            req = parse_request(body, chat, {n: m.engine.max_model_len for n, m in served.items()})
            ids, stops = prompt_ids(req)
            params = req.params
            if stops and not params.ignore_eos:
                params = dataclasses.replace(params, stop_token_ids=(*params.stop_token_ids, *stops))
            seq_id, queue = drivers[req.model].submit(ids, params, req.priority)
        except ApiError as err:
            return _error(err)
        except InvalidParamsError as err:
            param = {"prompt": "messages" if chat else "prompt"}.get(err.param, err.param)
            return _error(bad(param, str(err)))
        except QueueFullError as err:
            return _error(ApiError(429, f"the server is overloaded: {err}; retry later", None, "rate_limit_error"))
        call = _Call(chat, req.model)
        driver = drivers[req.model]
        if req.stream:
            return StreamingResponse(stream(call, driver, seq_id, queue), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        return await complete(request, call, driver, seq_id, queue)

    async def stream(call: _Call, driver: EngineDriver, seq_id: int, queue: asyncio.Queue) -> AsyncIterator[str]:
        finished = False
        try:
            yield _sse(call.chunk(None, None, first=True))
            while True:
                out = await queue.get()
                if isinstance(out, EngineFailure):
                    yield _sse({"error": {"message": out.message, "type": "server_error", "param": None}})
                    break
                if out.new_text or out.finished:
                    chunk = call.chunk(out.new_text, out.finish_reason)
                    if out.finished:
                        chunk["usage"] = _usage(out)
                    yield _sse(chunk)
                if out.finished:
                    finished = True
                    break
            yield _sse("[DONE]")
        finally:
            if not finished:  # client went away (or an error): stop spending compute on it
                driver.abort(seq_id)

    async def complete(request: Request, call: _Call, driver: EngineDriver, seq_id: int,
                       queue: asyncio.Queue) -> Response:
        parts: list[str] = []
        next_check = time.monotonic() + DISCONNECT_POLL_S
        while True:
            try:
                out = await asyncio.wait_for(queue.get(), timeout=DISCONNECT_POLL_S)
            except TimeoutError:
                out = None
            # Outputs arrive every step, so check the client on a clock, not on idle time.
            if time.monotonic() >= next_check:
                next_check = time.monotonic() + DISCONNECT_POLL_S
                if await request.is_disconnected():
                    driver.abort(seq_id)
                    return Response(status_code=499)
            if out is None:
                continue
            if isinstance(out, EngineFailure):
                return _error(ApiError(500, out.message, None, "server_error"))
            parts.append(out.new_text)
            if out.finished:
                return JSONResponse(call.whole("".join(parts), out.finish_reason, _usage(out)))

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        return await handle(request, chat=True)

    @app.post("/v1/completions")
    async def completions(request: Request) -> Response:
        return await handle(request, chat=False)

    def model_card(name: str, m: ServedModel) -> dict[str, Any]:
        card: dict[str, Any] = {"id": name, "object": "model", "created": 0, "owned_by": "leitai",
                                "max_model_len": m.engine.max_model_len,
                                "chat_template": template_name(m.chat_template), "display_name": m.display_name or name}
        spec = m.engine.speculator
        if spec is not None:
            s = spec.stats()
            card["speculative"] = {"draft": s.draft, "num_speculative_tokens": s.num_speculative_tokens,
                                   "active": s.active, "acceptance_rate": s.acceptance_rate,
                                   "tokens_per_step": s.tokens_per_step}
        elif m.engine.draft_error is not None:
            card["speculative"] = {"active": False, "error": m.engine.draft_error}
        return card

    @app.get("/v1/models")
    async def list_models() -> dict[str, Any]:
        return {"object": "list", "data": [model_card(name, m) for name, m in served.items()]}

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "models": sorted(served)}

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return app
