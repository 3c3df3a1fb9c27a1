"""Prometheus metrics for /metrics: engine state read at scrape time, plus a TTFT histogram."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .engine import EngineStats
from .speculative import SpeculativeStats

TTFT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _EngineCollector(Collector):
    def __init__(self, sources: Callable[[], dict[str, EngineStats]]) -> None:
        self._sources = sources

    def collect(self) -> Iterator[Metric]:
        stats = self._sources()
        gauges = {
            "leitai_running_sequences": ("Sequences in the running batch", lambda s: s.num_running),
            "leitai_waiting_sequences": ("Sequences waiting for admission", lambda s: s.num_waiting),
            "leitai_kv_blocks_used": ("KV-cache blocks held by sequences", lambda s: s.kv_blocks_used),
            "leitai_kv_blocks_free": ("KV-cache blocks free (cached prefixes included)",
                                      lambda s: s.kv_blocks_free),
            "leitai_generation_tokens_per_second": ("Generated tokens per second, last 10 s",
                                                    lambda s: s.generation_tokens_per_s),
        }
        for name, (doc, get) in gauges.items():
            g = GaugeMetricFamily(name, doc, labels=["model"])
            for model, s in stats.items():
                g.add_metric([model], float(get(s)))
            yield g
        counters = {
            "leitai_prompt_tokens": ("Prompt tokens admitted", lambda s: s.prompt_tokens_total),
            "leitai_generation_tokens": ("Tokens generated", lambda s: s.generation_tokens_total),
            "leitai_prefix_cache_hit_blocks": ("KV blocks reused from the prefix cache",
                                               lambda s: s.prefix_cache_hit_blocks),
        }
        for name, (doc, get) in counters.items():
            c = CounterMetricFamily(name, doc, labels=["model"])
            for model, s in stats.items():
                c.add_metric([model], float(get(s)))
            yield c
        # blocks: the KV cache ran out; priority: a more urgent request was waiting. Either way the
        # sequence is recomputed later and its answer goes on unchanged.
        preemptions = CounterMetricFamily("leitai_preemptions", "Sequences preempted (recomputed later), by reason",
                                          labels=["model", "reason"])
        for model, s in stats.items():
            for reason, count in s.preemptions.items():
                preemptions.add_metric([model, reason], float(count))
        yield preemptions
        requests = CounterMetricFamily("leitai_requests", "Finished requests by finish reason",
                                       labels=["model", "finish_reason"])
        for model, s in stats.items():
            for reason, count in s.finished_total.items():
                requests.add_metric([model, reason], float(count))
        yield requests
        speculative = {model: s.speculative for model, s in stats.items() if s.speculative is not None}
        if speculative:
            yield from _speculative_metrics(speculative)


def _speculative_metrics(stats: dict[str, SpeculativeStats]) -> Iterator[Metric]:
    """Models served with a draft: how often its proposals are kept, and when decoding went plain."""
    counters: dict[str, tuple[str, Callable[[SpeculativeStats], float]]] = {
        "leitai_spec_proposed_tokens": ("Draft tokens proposed", lambda s: s.proposed_tokens),
        "leitai_spec_accepted_tokens": ("Draft tokens the target kept", lambda s: s.accepted_tokens),
        "leitai_spec_sequence_steps": ("Speculative steps, counted per sequence", lambda s: s.sequence_steps),
    }
    for name, (doc, get) in counters.items():
        c = CounterMetricFamily(name, doc, labels=["model"])
        for model, s in stats.items():
            c.add_metric([model], float(get(s)))
        yield c
    fallback = CounterMetricFamily("leitai_spec_fallback_steps", "Decode steps run without speculation, by reason",
                                   labels=["model", "reason"])
    for model, s in stats.items():
        for reason, count in s.fallback_steps.items():
            fallback.add_metric([model, reason], float(count))
    yield fallback
    rate = GaugeMetricFamily("leitai_spec_acceptance_rate", "Accepted / proposed draft tokens since start",
                             labels=["model"])
    for model, s in stats.items():
        if s.acceptance_rate is not None:
            rate.add_metric([model], s.acceptance_rate)
    yield rate
    gauges: dict[str, tuple[str, Callable[[SpeculativeStats], float]]] = {
        "leitai_spec_accepted_tokens_per_step": (
            "Moving average of tokens a sequence gains per speculative step (kept draft tokens + 1)",
            lambda s: s.tokens_per_step),
        "leitai_spec_min_tokens_per_step": ("Below this average the engine decodes plainly for a while",
                                            lambda s: s.min_tokens_per_step),
        "leitai_spec_active": ("1 while speculating, 0 while decoding plainly for low acceptance",
                               lambda s: float(s.active)),
    }
    for name, (doc, get) in gauges.items():
        g = GaugeMetricFamily(name, doc, labels=["model"])
        for model, s in stats.items():
            g.add_metric([model], float(get(s)))
        yield g


class Metrics:
    def __init__(self, sources: Callable[[], dict[str, EngineStats]]) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_EngineCollector(sources))
        self.ttft = Histogram("leitai_time_to_first_token_seconds", "Time from arrival to the first token",
                              ["model"], buckets=TTFT_BUCKETS, registry=self.registry)

    def observe_ttft(self, model: str, seconds: float) -> None:
        self.ttft.labels(model=model).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
