"""Turns a scheduled batch into flat tensors, runs the model and samples.

On a GPU, decode-only batches replay CUDA graphs (cuda_graph.py) unless `enforce_eager`;
prefill, mixed and oversize batches run eagerly. The KV pool has one extra block at the
end, owned by no sequence, where padded graph rows write their K/V.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .config import EngineConfig, ModelConfig
from .cuda_graph import DecodeGraphRunner, Graph, cuda_graph_factory, graph_batch_sizes
from .layers.attention import AttentionMetadata, get_attention_backend
from .layers.ops import select_ops
from .memory import choose_num_blocks, kv_bytes_per_block, profile_cuda
from .models.llama import LlamaForCausalLM
from .rope import RotaryEmbedding
from .sampler import Sampler
from .scheduler import ScheduledBatch

KVCaches = list[tuple[torch.Tensor, torch.Tensor]]


class ModelRunner:
    def __init__(self, model_config: ModelConfig, config: EngineConfig, state_dict: dict[str, torch.Tensor],
                 max_model_len: int, extra_kv_bytes_per_block: int = 0) -> None:
        """`extra_kv_bytes_per_block`: what a draft model's cache, indexed by the same blocks, takes
        per block; a pool sized from GPU memory leaves room for it."""
        self.model_config = model_config
        self.config = config
        self.device = torch.device(config.device)
        self.dtype = config.torch_dtype
        self.block_size = config.block_size
        self.max_model_len = max_model_len
        self.max_blocks = (max_model_len + self.block_size - 1) // self.block_size
        with torch.device("meta"):  # no random init: the checkpoint's tensors become the parameters
            model = LlamaForCausalLM(model_config)
        model.load_hf_state_dict(state_dict)
        # A no-op for tensors already on the device in the serving dtype (what the loader makes).
        self.model = model.to(device=self.device, dtype=self.dtype).eval()
        self.backend = get_attention_backend(config.attention_backend)
        self.ops = select_ops(config.fused_ops, self.device)
        if self.ops.name == "triton":
            self.model.fuse_projections(state_dict)
        self.rotary = RotaryEmbedding(model_config, self.device)
        self.sampler = Sampler()
        self.num_blocks = choose_num_blocks(model_config, config, max_model_len,
                                            profile=lambda: profile_cuda(self.device, self._warmup),
                                            extra_bytes_per_block=extra_kv_bytes_per_block)
        # What the pool takes (a draft's cache included), as the sizing counted it: the scratch block aside.
        self.kv_pool_bytes = self.num_blocks * (kv_bytes_per_block(model_config, self.block_size, self.dtype)
                                                + extra_kv_bytes_per_block)
        self.scratch_block = self.num_blocks
        self.kv_caches = self._allocate_kv(self.num_blocks + 1)
        self.graphs: DecodeGraphRunner | None = None
        # Seconds per call of each decode-attention configuration tried, by batch size (GPU only).
        self.attention_tuning: dict[int, dict[str, float]] = {}
        if self.device.type == "cuda" and not config.enforce_eager:
            self.tune_attention(graph_batch_sizes(min(config.max_graph_batch_size, config.max_num_seqs)))
            self.enable_decode_graphs(cuda_graph_factory())

    def _allocate_kv(self, num_blocks: int) -> KVCaches:
        shape = (num_blocks, self.block_size, self.model_config.num_key_value_heads, self.model_config.head_dim)
        return [(torch.zeros(shape, dtype=self.dtype, device=self.device),
                 torch.zeros(shape, dtype=self.dtype, device=self.device))
                for _ in range(self.model_config.num_hidden_layers)]

    @torch.inference_mode()
    def _warmup(self) -> None:
        """The largest eager step the scheduler can build, on a throwaway cache, for the memory peak."""
        tokens = min(self.config.max_num_batched_tokens, self.max_model_len)
        blocks = (tokens + self.block_size - 1) // self.block_size
        caches = self._allocate_kv(blocks)
        meta = AttentionMetadata(
            positions=torch.arange(tokens, device=self.device),
            token_seq=torch.zeros(tokens, dtype=torch.int64, device=self.device),
            slot_mapping=torch.arange(tokens, device=self.device),
            block_tables=torch.arange(blocks, dtype=torch.int32, device=self.device)[None, :],
            context_lens=torch.tensor([tokens], dtype=torch.int32, device=self.device),
            query_lens=[tokens], context_lens_host=[tokens], block_size=self.block_size)
        ids = torch.zeros(tokens, dtype=torch.int64, device=self.device)
        cos, sin = self.rotary.cos_sin(meta.positions)
        hidden = self.model(ids, cos, sin, meta, caches, self.backend, self.ops)
        rows = min(self.config.max_num_seqs, tokens)
        self.model.compute_logits(hidden[:rows]).float()

    def _decode_logits(self, input_ids: torch.Tensor, meta: AttentionMetadata) -> torch.Tensor:
        """What a graph records: one decode step, cos/sin included (graphs only serve alpha = 1)."""
        cos, sin = self.rotary.cos_sin(meta.positions)
        hidden = self.model(input_ids, cos, sin, meta, self.kv_caches, self.backend, self.ops)
        return self.model.compute_logits(hidden)

    @torch.inference_mode()
    def tune_attention(self, batch_sizes: list[int]) -> None:
        """Let the backend pick its decode kernel configuration per batch size on this card, before
        the graphs bake one in (backends without `tune` have nothing to choose)."""
        tune = getattr(self.backend, "tune", None)
        if tune is not None:
            k_cache, v_cache = self.kv_caches[0]
            self.attention_tuning = tune(k_cache, v_cache, batch_sizes, self.max_blocks, self.block_size,
                                         self.model_config.num_attention_heads)

    @torch.inference_mode()
    def enable_decode_graphs(self, make_graph: Callable[[], Graph]) -> None:
        """Capture decode graphs (CudaGraph on a GPU; tests pass EagerGraph on CPU)."""
        top = min(self.config.max_graph_batch_size, self.config.max_num_seqs)
        self.graphs = DecodeGraphRunner(self._decode_logits, graph_batch_sizes(top), self.max_blocks,
                                        self.block_size, self.scratch_block, self.device, make_graph)
        self.graphs.capture()

    def prepare(self, batch: ScheduledBatch) -> tuple[torch.Tensor, AttentionMetadata, list[int]]:
        """Flat input ids, attention metadata and the row of each sampled sequence's last token."""
        bs = self.block_size
        input_ids: list[int] = []
        positions: list[int] = []
        token_seq: list[int] = []
        slots: list[int] = []
        context_lens: list[int] = []
        sample_rows: list[int] = []
        for i, (seq, n) in enumerate(zip(batch.seqs, batch.num_tokens, strict=True)):
            start = batch.start(i)
            input_ids.extend(seq.token_ids[start:start + n])
            for pos in range(start, start + n):
                positions.append(pos)
                slots.append(seq.block_table[pos // bs] * bs + pos % bs)
            token_seq.extend([i] * n)
            context_lens.append(start + n)
            if batch.samples(i):
                sample_rows.append(len(input_ids) - 1)
        width = max(len(seq.block_table) for seq in batch.seqs)
        tables = [seq.block_table + [0] * (width - len(seq.block_table)) for seq in batch.seqs]

        def to_dev(values: list[int] | list[list[int]], dtype: torch.dtype) -> torch.Tensor:
            return torch.tensor(values, dtype=dtype).to(self.device, non_blocking=True)

        meta = AttentionMetadata(
            positions=to_dev(positions, torch.int64),
            token_seq=to_dev(token_seq, torch.int64),
            slot_mapping=to_dev(slots, torch.int64),
            block_tables=to_dev(tables, torch.int32),
            context_lens=to_dev(context_lens, torch.int32),
            query_lens=list(batch.num_tokens),
            context_lens_host=context_lens,
            block_size=bs,
        )
        return to_dev(input_ids, torch.int64), meta, sample_rows

    @torch.inference_mode()
    def _forward(self, input_ids: torch.Tensor, meta: AttentionMetadata, alphas: list[float]) -> torch.Tensor:
        cos, sin = self.rotary.cos_sin(meta.positions, alphas, meta.token_seq)
        return self.model(input_ids, cos, sin, meta, self.kv_caches, self.backend, self.ops)

    @torch.inference_mode()
    def fill(self, batch: ScheduledBatch) -> None:
        """Write the K/V of the batch's tokens, no logits (a draft model following prefill chunks)."""
        input_ids, meta, _ = self.prepare(batch)
        self._forward(input_ids, meta, [seq.rope_alpha or 1.0 for seq in batch.seqs])

    @torch.inference_mode()
    def token_logits(self, batch: ScheduledBatch, rows: list[int]) -> torch.Tensor:
        """Logits [len(rows), vocab] in float32 at the given rows of the batch's flattened tokens
        (a speculative verification scores several tokens of a sequence)."""
        input_ids, meta, _ = self.prepare(batch)
        hidden = self._forward(input_ids, meta, [seq.rope_alpha or 1.0 for seq in batch.seqs])
        return self.model.compute_logits(hidden[rows]).float()

    @torch.inference_mode()
    def logits(self, batch: ScheduledBatch) -> torch.Tensor:
        """Logits [num sampled seqs, vocab] in float32 for the sequences that reach their end."""
        graphs = self.graphs
        if graphs is not None and self._graph_step(graphs, batch):
            return self._replay(graphs, batch)
        input_ids, meta, rows = self.prepare(batch)
        alphas = [seq.rope_alpha or 1.0 for seq in batch.seqs]
        hidden = self._forward(input_ids, meta, alphas)
        return self.model.compute_logits(hidden[rows]).float()

    @staticmethod
    def _graph_step(graphs: DecodeGraphRunner, batch: ScheduledBatch) -> bool:
        """Decode only: one token per sequence, each sampling (a one-token prefill chunk short of the
        prompt's end samples nothing), default RoPE (graphs bake in alpha = 1), within the ladder."""
        return (all(n == 1 for n in batch.num_tokens)
                and all(batch.samples(i) and (seq.rope_alpha or 1.0) == 1.0 for i, seq in enumerate(batch.seqs))
                and graphs.fits(len(batch.seqs), max(len(seq.block_table) for seq in batch.seqs)))

    def _replay(self, graphs: DecodeGraphRunner, batch: ScheduledBatch) -> torch.Tensor:
        bs = self.block_size
        positions = [batch.start(i) for i in range(len(batch.seqs))]
        out = graphs.run([seq.token_ids[p] for seq, p in zip(batch.seqs, positions, strict=True)], positions,
                              [seq.block_table[p // bs] * bs + p % bs for seq, p in zip(batch.seqs, positions,
                                                                                          strict=True)],
                              [seq.block_table for seq in batch.seqs])
        return out.to(torch.float32, copy=True)  # a copy: the next replay overwrites the graph's output

    def can_decode_ahead(self, batch: ScheduledBatch) -> bool:
        """Whether `batch` can be queued without reading its tokens back: a graph decode step whose
        sequences all sample greedily without a repetition penalty (an argmax on the device)."""
        graphs = self.graphs
        return (self.config.async_decode and graphs is not None and self._graph_step(graphs, batch)
                and all(seq.params.greedy and seq.params.repetition_penalty == 1.0 for seq in batch.seqs))

    @torch.inference_mode()
    def launch_decode(self, batch: ScheduledBatch, source: tuple[torch.Tensor, list[int]] | None = None
                      ) -> torch.Tensor:
        """Queue a graph decode step (see can_decode_ahead) and its argmax; returns the tokens on the
        device, not read back. With `source` = (tokens, rows), sequence i's input token is
        tokens[rows[i]], a previous launch's result, so that launch need not be read back first."""
        graphs = self.graphs
        if graphs is None:
            raise RuntimeError("launch_decode() needs decode graphs")
        bs = self.block_size
        positions = [seq.num_computed_tokens for seq in batch.seqs]
        slots = [seq.block_table[p // bs] * bs + p % bs for seq, p in zip(batch.seqs, positions, strict=True)]
        tables = [seq.block_table for seq in batch.seqs]
        if source is None:
            ids = [seq.token_ids[p] for seq, p in zip(batch.seqs, positions, strict=True)]
            logits = graphs.run(ids, positions, slots, tables)
        else:
            logits = graphs.run([], positions, slots, tables, source[0], source[1])
        return torch.argmax(logits, dim=-1)  # queued before the next replay overwrites the logits

    def run(self, batch: ScheduledBatch) -> list[int]:
        """One step: returns a token for each sequence in `batch` that samples, in batch order."""
        logits = self.logits(batch)
        sampled = [seq for i, seq in enumerate(batch.seqs) if batch.samples(i)]
        if not sampled:
            return []
        return self.sampler(logits, sampled)
