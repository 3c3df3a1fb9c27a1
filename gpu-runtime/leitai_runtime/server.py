"""OpenAI-compatible HTTP server: /v1/chat/completions, /v1/completions, /v1/models(/{id}),
/health, /metrics. One EngineDriver per served model; a client that disconnects has its
request aborted so its KV blocks are freed. Every error, routing ones included, is OpenAI's
error object: {"error": {"message", "type", "param", "code"}}."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException

from .driver import EngineDriver, EngineFailure
from .engine import LLMEngine, RequestOutput
from .jinja_template import JinjaChatTemplate, TemplateError
from .metrics import Metrics
from .protocol import (
    CONTEXT_LENGTH_EXCEEDED,
    MODEL_NOT_FOUND,
    ApiError,
    CompletionRequest,
    bad,
    parse_json,
    parse_request,
)
from .scheduler import QueueFullError
from .sequence import InvalidParamsError, SamplingParams
from .templates import (
    CHAT_TEMPLATES,
    Template,
    encode_chat,
    encode_completion,
    resolve_template,
    template_name,
)

DISCONNECT_POLL_S = 0.5
# A request's own chat template renders in these threads, so a costly one stalls neither the
# event loop (/health, every stream) nor requests without one, which are encoded in asyncio's
# default threads. Rendering holds the GIL, so more threads would not go faster.
RENDER_THREADS = 4
# Request templates rendering or waiting for a render thread; past this a request gets a 429.
MAX_TEMPLATE_RENDERS = 16

log = logging.getLogger(__name__)


@dataclass
class ServedModel:
    name: str
    engine: LLMEngine
    chat_template: Template = "alpaca2"  # used when a request names none
    system_prompt: str | None = None
    display_name: str | None = None


def _error(err: ApiError, headers: Mapping[str, str] | None = None) -> Response:
    # ASCII-escaped: a message quoting the client's text stays encodable whatever it holds
    return Response(json.dumps(err.body()), status_code=err.status, media_type="application/json",
                    headers=headers)


def _usage(out: RequestOutput) -> dict[str, int]:
    return {"prompt_tokens": out.num_prompt_tokens, "completion_tokens": out.num_output_tokens,
            "total_tokens": out.num_prompt_tokens + out.num_output_tokens}


class _Call:
    """One request's response shape: chat.completion(.chunk) or text_completion."""

    def __init__(self, chat: bool, model: str, include_usage: bool = False) -> None:
        self.chat, self.model, self.include_usage = chat, model, include_usage
        self.id = ("chatcmpl-" if chat else "cmpl-") + uuid.uuid4().hex
        self.created = int(time.time())

    def _envelope(self, choices: list[dict[str, Any]], chunk: bool) -> dict[str, Any]:
        kind = ("chat.completion" if self.chat else "text_completion") + (".chunk" if chunk and self.chat else "")
        out = {"id": self.id, "object": kind, "created": self.created, "model": self.model, "choices": choices}
        if chunk and self.include_usage:  # as OpenAI: null on every chunk but the last
            out["usage"] = None
        return out

    def chunk(self, text: str | None, finish_reason: str | None, first: bool = False) -> dict[str, Any]:
        if self.chat:
            delta: dict[str, Any] = {"role": "assistant", "content": ""} if first else {}
            if text:
                delta["content"] = text
            return self._envelope([{"index": 0, "delta": delta, "finish_reason": finish_reason}], True)
        return self._envelope([{"index": 0, "text": text or "", "finish_reason": finish_reason, "logprobs": None}],
                              True)

    def usage_chunk(self, usage: dict[str, int]) -> dict[str, Any]:
        """stream_options.include_usage: a last chunk with the usage and no choices."""
        return {**self._envelope([], True), "usage": usage}

    def whole(self, text: str, finish_reason: str | None, usage: dict[str, int]) -> dict[str, Any]:
        if self.chat:
            choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": text},
                                      "finish_reason": finish_reason}
        else:
            choice = {"index": 0, "text": text, "finish_reason": finish_reason, "logprobs": None}
        return {**self._envelope([choice], False), "usage": usage}


def _sse(data: dict[str, Any] | str) -> str:
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"data: {payload}\n\n"


def create_app(models: list[ServedModel]) -> FastAPI:
    served = {m.name: m for m in models}
    drivers: dict[str, EngineDriver] = {}
    render_pool = ThreadPoolExecutor(RENDER_THREADS, thread_name_prefix="leitai-render")
    renders = 0  # request templates in render_pool; only the event loop changes it
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
        render_pool.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="Leitai gpu-runtime", lifespan=lifespan)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        where = f"{request.method} {request.url.path}"
        if exc.status_code == 404:
            err = ApiError(404, f"Invalid URL ({where}): no such route", None, code="not_found")
        elif exc.status_code == 405:
            allowed = next((v for k, v in (exc.headers or {}).items() if k.lower() == "allow"), "")
            err = ApiError(405, f"Method not allowed ({where}); allowed: {allowed}", None, code="method_not_allowed")
        else:
            err = ApiError(exc.status_code, str(exc.detail), None,
                           "invalid_request_error" if exc.status_code < 500 else "server_error")
        return _error(err, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> Response:
        problems = exc.errors()
        first = problems[0] if problems else {}
        param = ".".join(str(p) for p in first.get("loc", ())[1:]) or None
        message = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in problems)
        return _error(ApiError(422, message or "invalid request", param))

    @app.exception_handler(Exception)
    async def server_error(_: Request, exc: Exception) -> Response:
        log.error("unhandled error", exc_info=exc)
        return _error(ApiError(500, f"internal server error ({type(exc).__name__})", None, "server_error"))

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

    def fit_context(req: CompletionRequest, ids: list[int], chat: bool) -> SamplingParams:
        """The answer's token budget: an explicit max_tokens must fit beside the prompt (OpenAI
        refuses it otherwise); without one the answer may use what the prompt leaves."""
        limit = served[req.model].engine.max_model_len
        what = "messages" if chat else "prompt"
        room = limit - len(ids)
        if room < 1:
            raise bad(what, f"This model's maximum context length is {limit} tokens, but the {what} alone "
                            f"take {len(ids)} tokens, leaving no room for an answer", CONTEXT_LENGTH_EXCEEDED)
        params = req.params
        if not req.max_tokens_given:
            return dataclasses.replace(params, max_tokens=room)
        if params.max_tokens > room:
            key = req.max_tokens_param
            raise bad(key, f"This model's maximum context length is {limit} tokens. However, you requested "
                           f"{len(ids) + params.max_tokens} tokens ({len(ids)} in the {what}, {params.max_tokens} "
                           f"in the completion). Shorten the {what} or lower {key}.", CONTEXT_LENGTH_EXCEEDED)
        return params

    async def build_prompt(req: CompletionRequest) -> tuple[list[int], tuple[int, ...]]:
        """prompt_ids off the event loop: Jinja source from the request in render_pool (bounded),
        anything else (built-in templates, the model's own, plain prompts) beside it."""
        nonlocal renders
        if req.chat_template is None or req.chat_template in CHAT_TEMPLATES:
            return await asyncio.to_thread(prompt_ids, req)
        if renders >= MAX_TEMPLATE_RENDERS:
            raise ApiError(429, f"too many template renders in flight ({renders}); retry later", "chat_template",
                           "rate_limit_error")
        renders += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(render_pool, prompt_ids, req)
        finally:
            renders -= 1

    async def handle(request: Request, chat: bool) -> Response:
        try:
            body = parse_json(await request.body())
            req = parse_request(body, chat, {n: m.engine.max_model_len for n, m in served.items()})
            ids, stops = await build_prompt(req)
            params = fit_context(req, ids, chat)
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
        call = _Call(chat, req.model, req.include_usage)
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
                    yield _sse(ApiError(500, out.message, None, "server_error").body())
                    break
                if out.new_text or out.finished:
                    yield _sse(call.chunk(out.new_text, out.finish_reason))
                if out.finished:
                    finished = True
                    if call.include_usage:
                        yield _sse(call.usage_chunk(_usage(out)))
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

    @app.get("/v1/models/{model_id:path}")
    async def retrieve_model(model_id: str) -> Response:
        m = served.get(model_id)
        if m is None:
            return _error(ApiError(404, f"The model {model_id!r} does not exist; served models: "
                                        f"{', '.join(sorted(served))}", "model", code=MODEL_NOT_FOUND))
        return JSONResponse(model_card(model_id, m))

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "models": sorted(served)}

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return app
