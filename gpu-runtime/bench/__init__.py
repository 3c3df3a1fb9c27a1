"""Benchmark scripts (run from gpu-runtime/: python3 -m bench.device_bench)."""
