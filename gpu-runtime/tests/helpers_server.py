"""An in-process uvicorn server on a free port, and a "chain" model that answers a fixed text.

The chain model makes every layer's output projections zero, so the hidden state is just
the current token's embedding, and sets lm_head so that token a_i is followed by a_{i+1}:
greedy decoding after the chat prompt then spells out a known answer, byte-fallback pieces
included, which lets the tests check streamed Chinese text exactly.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import torch
import uvicorn
from fastapi import FastAPI
from safetensors.torch import load_file, save_file

from leitai_runtime.demo import write_demo_model
from leitai_runtime.templates import encode_chat
from leitai_runtime.tokenizer import SentencePieceTokenizer

CHAIN_QUESTION = [{"role": "user", "content": "你好"}]


def write_chain_model(out: Path, answer: str) -> tuple[Path, list[int]]:
    path = write_demo_model(out, seed=3, name="chain")
    tok = SentencePieceTokenizer(path / "tokenizer.model")
    prompt = encode_chat(tok, CHAIN_QUESTION, "alpaca2")
    answer_ids = tok.encode(answer)
    chain = [prompt[-1], *answer_ids, tok.eos_id]
    if len(set(chain)) != len(chain):
        raise ValueError(f"chain tokens must be distinct: {chain}")
    weights = load_file(str(path / "model.safetensors"))
    for name in list(weights):
        if name.endswith(("o_proj.weight", "down_proj.weight")):
            weights[name] = torch.zeros_like(weights[name])
    embed = weights["model.embed_tokens.weight"]
    head = torch.randn(weights["lm_head.weight"].shape, generator=torch.Generator().manual_seed(0)) * 0.01
    for prev, nxt in zip(chain, chain[1:], strict=False):
        head[nxt] = embed[prev] / embed[prev].norm() * 50.0
    weights["lm_head.weight"] = head
    save_file(weights, str(path / "model.safetensors"), metadata={"format": "pt"})
    return path, answer_ids


class ServerThread:
    def __init__(self, app: FastAPI) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def sse_events(lines: list[str]) -> list[dict | str]:
    events: list[dict | str] = []
    for line in lines:
        if line.startswith("data: "):
            payload = line[len("data: "):]
            events.append(payload if payload == "[DONE]" else json.loads(payload))
    return events
