"""Turns a scheduled batch into flat tensors, runs the model eagerly and samples.

The GPU fast path (CUDA-graph capture of decode-only batches with static input buffers,
fused kernels) plugs in at `_forward`: `prepare` already produces every tensor such a
graph would read, and a decode-only batch is recognisable by `query_lens` all being 1.
"""

from __future__ import annotations

import torch

from .config import EngineConfig, ModelConfig
from .layers.attention import AttentionMetadata, get_attention_backend
from .models.llama import LlamaForCausalLM
from .rope import RotaryEmbedding
from .sampler import Sampler
from .scheduler import ScheduledBatch

CPU_KV_BYTES = 2 << 30  # default KV pool on CPU when no size is given


def kv_bytes_per_block(model: ModelConfig, block_size: int, dtype: torch.dtype) -> int:
    elem = torch.empty((), dtype=dtype).element_size()
    return 2 * model.num_hidden_layers * block_size * model.num_key_value_heads * model.head_dim * elem


def choose_num_blocks(model: ModelConfig, config: EngineConfig, max_model_len: int) -> int:
    """KV blocks: as configured, else a share of free GPU memory, else a CPU default."""
    per_block = kv_bytes_per_block(model, config.block_size, config.torch_dtype)
    minimum = (max_model_len + config.block_size - 1) // config.block_size
    if config.num_kv_blocks is not None:
        if config.num_kv_blocks < minimum:
            raise ValueError(f"num_kv_blocks={config.num_kv_blocks} cannot hold one sequence of "
                             f"max_model_len={max_model_len} tokens (needs {minimum})")
        return config.num_kv_blocks
    if config.device.startswith("cuda"):
        free, total = torch.cuda.mem_get_info(torch.device(config.device))
        util = config.gpu_memory_utilization or 0.9
        budget = int(total * util) - (total - free)
        blocks = budget // per_block
        if blocks < minimum:
            raise ValueError(f"gpu_memory_utilization={util} leaves room for {blocks} KV blocks; "
                             f"{minimum} are needed for max_model_len={max_model_len}")
        return int(blocks)
    return max(minimum, CPU_KV_BYTES // per_block)


class ModelRunner:
    def __init__(self, model_config: ModelConfig, config: EngineConfig, state_dict: dict[str, torch.Tensor],
                 num_blocks: int) -> None:
        self.model_config = model_config
        self.config = config
        self.device = torch.device(config.device)
        self.dtype = config.torch_dtype
        self.block_size = config.block_size
        with torch.device("meta"):  # no random init: the checkpoint's tensors become the parameters
            model = LlamaForCausalLM(model_config)
        model.load_hf_state_dict(state_dict)
        self.model = model.to(device=self.device, dtype=self.dtype).eval()
        self.backend = get_attention_backend(config.attention_backend)
        self.rotary = RotaryEmbedding(model_config, self.device)
        shape = (num_blocks, self.block_size, model_config.num_key_value_heads, model_config.head_dim)
        self.kv_caches = [
            (torch.zeros(shape, dtype=self.dtype, device=self.device),
             torch.zeros(shape, dtype=self.dtype, device=self.device))
            for _ in range(model_config.num_hidden_layers)
        ]
        self.sampler = Sampler()

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
            start = seq.num_computed_tokens
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
        return self.model(input_ids, cos, sin, meta, self.kv_caches, self.backend)

    @torch.inference_mode()
    def logits(self, batch: ScheduledBatch) -> torch.Tensor:
        """Logits [num sampled seqs, vocab] in float32 for the sequences that reach their end."""
        input_ids, meta, rows = self.prepare(batch)
        alphas = [seq.rope_alpha or 1.0 for seq in batch.seqs]
        hidden = self._forward(input_ids, meta, alphas)
        return self.model.compute_logits(hidden[rows]).float()

    def run(self, batch: ScheduledBatch) -> list[int]:
        """One step: returns a token for each sequence in `batch` that samples, in batch order."""
        logits = self.logits(batch)
        sampled = [seq for i, seq in enumerate(batch.seqs) if batch.samples(i)]
        if not sampled:
            return []
        return self.sampler(logits, sampled)
