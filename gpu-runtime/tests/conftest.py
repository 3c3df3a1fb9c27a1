"""Shared fixtures: tiny random Llama models built in memory, small thread counts."""

from __future__ import annotations

import torch

# Two shared cores: more threads only add contention between parallel test processes.
torch.set_num_threads(1)
