"""lowincome.heap: a long run keeps the process's long-lived heap out of the garbage collector's way and
gives the collector everything back at its end."""

from __future__ import annotations

import gc

from lowincome import heap


def test_frozen_for_the_block_and_unfrozen_after():
    gc.unfreeze()
    with heap.frozen():
        held = gc.get_freeze_count()
        assert held > 1_000
        leftover = [[]]
        leftover[0].append(leftover)  # a cycle made inside the block is collected as usual
        del leftover
        assert gc.collect() >= 1
    assert gc.get_freeze_count() == 0


def test_a_caller_that_froze_its_own_keeps_it_frozen():
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        with heap.frozen():
            pass
        assert gc.get_freeze_count() >= before
    finally:
        gc.unfreeze()


def test_ingest_folder_runs_frozen(cfg, tmp_path, monkeypatch):
    from lowincome.ingest import pipeline

    seen = []
    shipped = pipeline.load_tables.drop_stale

    def drop_stale(*args, **kwargs):
        seen.append(gc.get_freeze_count())
        return shipped(*args, **kwargs)

    monkeypatch.setattr(pipeline.load_tables, "drop_stale", drop_stale)
    gc.unfreeze()
    assert pipeline.ingest_folder(tmp_path, cfg) == []
    assert len(seen) == 1 and seen[0] > 1_000
    assert gc.get_freeze_count() == 0
