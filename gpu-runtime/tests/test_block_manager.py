"""BlockManager: allocation, prefix caching with collision checks, and invariants under
random workloads (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leitai_runtime import block_manager as bm_module
from leitai_runtime.block_manager import BlockManager
from leitai_runtime.sequence import SamplingParams, Sequence


def seq_of(tokens: list[int]) -> Sequence:
    return Sequence(tokens, SamplingParams())


def check_invariants(bm: BlockManager, live: list[Sequence]) -> None:
    assert bm.num_free_blocks + bm.num_used_blocks == bm.num_blocks
    assert all(b.ref_count >= 0 for b in bm.blocks)
    expected: dict[int, int] = {}
    for s in live:
        for b in s.block_table:
            expected[b] = expected.get(b, 0) + 1
    for block in bm.blocks:
        assert block.ref_count == expected.get(block.block_id, 0)
        assert (block.ref_count > 0) == (block.block_id in bm.used_ids)
    for h, block_id in bm.hash_to_block.items():
        assert bm.blocks[block_id].hash == h


def compute_all(bm: BlockManager, seq: Sequence) -> None:
    seq.num_computed_tokens = len(seq)
    bm.register_computed(seq)


def test_allocate_and_free():
    bm = BlockManager(8, 4)
    seq = seq_of(list(range(10)))
    assert bm.can_allocate(seq)
    bm.allocate(seq)
    assert len(seq.block_table) == 3 and bm.num_free_blocks == 5
    bm.deallocate(seq)
    assert bm.num_free_blocks == 8 and seq.block_table == []


def test_prefix_hit_shares_full_computed_blocks_only():
    bm = BlockManager(16, 4)
    a = seq_of(list(range(10)))
    bm.allocate(a)
    b = seq_of(list(range(10)))
    bm.allocate(b)
    assert b.num_computed_tokens == 0  # a's blocks are not computed yet: no hit
    compute_all(bm, a)
    c = seq_of(list(range(9)) + [99])
    bm.allocate(c)
    assert c.num_computed_tokens == 8 and c.block_table[:2] == a.block_table[:2]
    assert bm.blocks[a.block_table[0]].ref_count == 2
    check_invariants(bm, [a, b, c])


def test_whole_prompt_hit_still_leaves_the_last_token_to_compute():
    bm = BlockManager(16, 4)
    a = seq_of(list(range(8)))
    bm.allocate(a)
    compute_all(bm, a)
    b = seq_of(list(range(8)))
    bm.allocate(b)
    assert b.num_computed_tokens == 4  # second block re-computed: its last token needs logits


def test_freed_blocks_stay_cached_until_reused():
    bm = BlockManager(4, 4)
    a = seq_of(list(range(9)))
    bm.allocate(a)
    compute_all(bm, a)
    bm.deallocate(a)
    b = seq_of(list(range(9)))
    bm.allocate(b)
    assert b.num_computed_tokens == 8
    bm.deallocate(b)
    filler = seq_of([50 + i for i in range(16)])  # takes every block, evicting the cache
    bm.allocate(filler)
    bm.deallocate(filler)
    c = seq_of(list(range(9)))
    bm.allocate(c)
    assert c.num_computed_tokens == 0


def test_different_rope_alpha_never_shares_blocks():
    bm = BlockManager(16, 4)
    a = seq_of(list(range(9)))
    a.rope_alpha = 1.5
    bm.allocate(a)
    compute_all(bm, a)
    same_alpha, other_alpha, no_alpha = seq_of(list(range(9))), seq_of(list(range(9))), seq_of(list(range(9)))
    same_alpha.rope_alpha, other_alpha.rope_alpha = 1.5, 2.0
    for s in (same_alpha, other_alpha, no_alpha):
        bm.allocate(s)
    assert same_alpha.num_computed_tokens == 8
    assert other_alpha.num_computed_tokens == 0 and no_alpha.num_computed_tokens == 0


def test_hash_collision_is_not_a_hit(monkeypatch):
    monkeypatch.setattr(bm_module, "block_hash", lambda parent, tokens: 42)
    bm = BlockManager(8, 4)
    a = seq_of([1, 2, 3, 4, 5])
    bm.allocate(a)
    compute_all(bm, a)
    b = seq_of([9, 9, 9, 9, 5])  # same (fake) hash, different tokens
    bm.allocate(b)
    assert b.num_computed_tokens == 0
    assert b.block_table[0] != a.block_table[0]


def test_append_grows_by_one_block_at_a_boundary():
    bm = BlockManager(4, 4)
    s = seq_of([1, 2, 3, 4])
    bm.allocate(s)
    s.num_computed_tokens = 4
    s.append_token(5)
    assert bm.can_append(s, 1)
    bm.may_append(s, 1)
    assert len(s.block_table) == 2


def test_misuse_raises_runtime_errors():
    bm = BlockManager(1, 4)
    s = seq_of([1, 2, 3, 4, 5])
    assert not bm.can_allocate(s)
    with pytest.raises(RuntimeError):
        bm.allocate(s)


ops = st.lists(st.tuples(st.sampled_from(["add", "grow", "free"]), st.integers(0, 10_000)), max_size=60)


@settings(max_examples=60, deadline=None)
@given(ops=ops, block_size=st.sampled_from([1, 2, 4]), num_blocks=st.integers(1, 24))
def test_invariants_hold_under_random_workloads(ops, block_size, num_blocks):
    bm = BlockManager(num_blocks, block_size)
    live: list[Sequence] = []
    for op, x in ops:
        if op == "add":
            # A small alphabet so prompts share prefixes and hit the cache.
            seq = seq_of([(x >> k) % 3 for k in range(1 + x % 11)])
            if bm.can_allocate(seq):
                bm.allocate(seq)
                live.append(seq)
        elif op == "grow" and live:
            seq = live[x % len(live)]
            compute_all(bm, seq)
            seq.append_token(x % 3)
            if bm.can_append(seq, 1):
                bm.may_append(seq, 1)
            else:
                bm.deallocate(seq)
                live.remove(seq)
        elif op == "free" and live:
            bm.deallocate(live.pop(x % len(live)))
        check_invariants(bm, live)
    for seq in live:
        bm.deallocate(seq)
    check_invariants(bm, [])
    assert bm.num_free_blocks == num_blocks
