"""Leitai gpu-runtime: continuous-batching inference for Llama-family models."""
