"""Drives one LLMEngine from asyncio: steps run in a worker thread, outputs are routed to
one asyncio.Queue per request, and the loop sleeps while there is nothing to do.

The worker thread is the driver's own, always the same one: glibc gives each thread that
allocates its own malloc arena and keeps what was freed there, so steps spread over a shared
pool's threads left every one of them holding a step's activations (hundreds of MiB on CPU)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .engine import LLMEngine, RequestOutput
from .sequence import DEFAULT_PRIORITY, SamplingParams

log = logging.getLogger(__name__)


@dataclass
class EngineFailure:
    message: str


class EngineDriver:
    def __init__(self, engine: LLMEngine, on_output: Callable[[RequestOutput], None] | None = None) -> None:
        self.engine = engine
        self._on_output = on_output
        self._queues: dict[int, asyncio.Queue[RequestOutput | EngineFailure]] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._thread: ThreadPoolExecutor | None = None

    def start(self) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="leitai-engine")
        self._task = asyncio.create_task(self._loop(self._thread))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self._thread is not None:
            self._thread.shutdown(wait=False)  # a step under way finishes in it; nothing waits for it

    def submit(self, prompt_ids: list[int], params: SamplingParams, priority: int = DEFAULT_PRIORITY
               ) -> tuple[int, asyncio.Queue[RequestOutput | EngineFailure]]:
        """Queue a request (raises InvalidParamsError / QueueFullError) and return its output queue."""
        seq_id = self.engine.add_request(prompt_ids, params, priority)
        queue: asyncio.Queue[RequestOutput | EngineFailure] = asyncio.Queue()
        self._queues[seq_id] = queue
        self._wake.set()
        return seq_id, queue

    def abort(self, seq_id: int) -> None:
        """Stop generating for a request whose client went away; its blocks are freed next step."""
        if self._queues.pop(seq_id, None) is not None:
            self.engine.abort(seq_id)
            self._wake.set()

    async def _loop(self, thread: ThreadPoolExecutor) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            if not self.engine.has_unfinished():
                await self._wake.wait()
                continue
            try:
                outputs = await loop.run_in_executor(thread, self.engine.step)
            except Exception as err:  # keep serving: fail the requests in flight, not the process
                log.exception("engine step failed")
                for seq_id, queue in list(self._queues.items()):
                    queue.put_nowait(EngineFailure(f"engine error: {type(err).__name__}"))
                    self.abort(seq_id)
                continue
            for out in outputs:
                if self._on_output is not None:
                    self._on_output(out)
                target = self._queues.get(out.seq_id)
                if target is not None:
                    # A request that failed alone gets its error; the others' outputs go on as usual.
                    target.put_nowait(EngineFailure(out.error) if out.error is not None else out)
                    if out.finished:
                        del self._queues[out.seq_id]
