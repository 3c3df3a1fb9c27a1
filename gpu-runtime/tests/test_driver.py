"""EngineDriver: routes outputs per request, steps in a thread of its own, survives a failing step."""

from __future__ import annotations

import asyncio
import threading
import time

from helpers_engine import engine_for, tiny_hf_llama

from leitai_runtime.driver import EngineDriver, EngineFailure
from leitai_runtime.sequence import SamplingParams


async def drain(queue: asyncio.Queue) -> list:
    items = []
    while True:
        item = await asyncio.wait_for(queue.get(), timeout=30)
        items.append(item)
        if isinstance(item, EngineFailure) or item.finished:
            return items


def test_outputs_are_routed_to_their_requests():
    async def main() -> None:
        engine = engine_for(tiny_hf_llama(seed=1))
        driver = EngineDriver(engine)
        driver.start()
        (a, qa), (b, qb) = driver.submit([5, 6, 7], SamplingParams(max_tokens=3)), \
            driver.submit([8, 9], SamplingParams(max_tokens=5, ignore_eos=True))
        outs_a, outs_b = await asyncio.gather(drain(qa), drain(qb))
        assert {o.seq_id for o in outs_a} == {a} and {o.seq_id for o in outs_b} == {b}
        assert sum(len(o.new_token_ids) for o in outs_b) == 5
        await driver.stop()

    asyncio.run(main())


def test_a_failing_step_fails_requests_in_flight_and_frees_them(monkeypatch):
    async def main() -> None:
        engine = engine_for(tiny_hf_llama(seed=1))
        real_run = engine.runner.run
        calls = {"n": 0}

        def flaky(batch):
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("simulated device error")
            return real_run(batch)

        monkeypatch.setattr(engine.runner, "run", flaky)
        driver = EngineDriver(engine)
        driver.start()
        _, queue = driver.submit([5, 6, 7], SamplingParams(max_tokens=20, ignore_eos=True))
        items = await drain(queue)
        assert isinstance(items[-1], EngineFailure)
        for _ in range(1000):  # 10 s at most: a loaded machine may be slow to run the abort step
            if not engine.has_unfinished():
                break
            await asyncio.sleep(0.01)
        assert engine.stats().kv_blocks_used == 0 and not engine.has_unfinished()
        _, queue = driver.submit([5, 6], SamplingParams(max_tokens=2))  # still serving
        assert (await drain(queue))[-1].finished
        await driver.stop()

    asyncio.run(main())


def test_each_driver_steps_in_one_thread_of_its_own():
    """Steps hopping over a shared pool's threads left a malloc arena full of freed activations
    in each of them; a driver keeps its engine's steps in one thread, its own."""
    async def main() -> None:
        threads: dict[str, set[int]] = {"a": set(), "b": set()}
        drivers = []
        for name, seed in (("a", 1), ("b", 2)):
            engine = engine_for(tiny_hf_llama(seed=seed))
            real_step = engine.step

            def step(real_step=real_step, seen=threads[name]):
                seen.add(threading.get_ident())
                return real_step()

            engine.step = step  # type: ignore[method-assign]
            drivers.append(EngineDriver(engine))
            drivers[-1].start()
        queues = [d.submit([5, 6, 7 + i], SamplingParams(max_tokens=12, ignore_eos=True))[1]
                  for d in drivers for i in range(3)]
        await asyncio.gather(*(drain(q) for q in queues))
        await asyncio.gather(*(asyncio.to_thread(time.sleep, 0.01) for _ in range(8)))  # the shared pool, busy
        queues = [d.submit([9, 10], SamplingParams(max_tokens=6, ignore_eos=True))[1] for d in drivers]
        await asyncio.gather(*(drain(q) for q in queues))
        assert len(threads["a"]) == len(threads["b"]) == 1 and threads["a"] != threads["b"]
        assert threading.main_thread().ident not in threads["a"] | threads["b"]
        for d in drivers:
            await d.stop()
        for _ in range(3000):
            if not any(t.name.startswith("leitai-engine") for t in threading.enumerate()):
                break
            await asyncio.sleep(0.01)
        assert not any(t.name.startswith("leitai-engine") for t in threading.enumerate())

    asyncio.run(main())
