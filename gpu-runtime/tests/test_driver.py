"""EngineDriver: routes outputs per request and survives a failing engine step."""

from __future__ import annotations

import asyncio

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
        for _ in range(100):
            if not engine.has_unfinished():
                break
            await asyncio.sleep(0.01)
        assert engine.stats().kv_blocks_used == 0 and not engine.has_unfinished()
        _, queue = driver.submit([5, 6], SamplingParams(max_tokens=2))  # still serving
        assert (await drain(queue))[-1].finished
        await driver.stop()

    asyncio.run(main())
