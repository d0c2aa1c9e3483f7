"""Same seed, same tables, bit for bit: every preset's results are pinned to checksums committed
here. A change that alters any simulated or measured number fails this test; when the change is
meant to alter results, the new checksums are committed with it and the reason says why."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from sla_sim import preset, preset_names, run_replications

PINNED = {
    "default": "4e8e74e5e3abacd779261dd3e0bdeeffc3e15c521baaeafee5b002ebbee73feb",
    "mid_market": "4e8e74e5e3abacd779261dd3e0bdeeffc3e15c521baaeafee5b002ebbee73feb",
    "smb_inbound": "9a2f69988d2726c39796a5e9a2562b4050f8c89b766c53eb712f6336995aaa44",
    "enterprise": "07133593afd0fe740a541ea0842fead42ec5fc9350bfeb78d1e56019c2aef0c9",
}


def table_checksum(name: str) -> str:
    """sha256 of the metric keys, the (replication x metric) values and the lead states of two
    replications of a preset at seed 7."""
    r = run_replications(preset(name), reps=2, seed=7, workers=1, progress=False)
    h = hashlib.sha256()
    h.update(json.dumps(r.keys).encode())
    h.update(np.ascontiguousarray(r.values).tobytes())
    h.update(r.terminal.to_csv(index=False).encode())
    return h.hexdigest()


def test_every_preset_is_pinned() -> None:
    assert set(PINNED) == set(preset_names())


@pytest.mark.parametrize("name", sorted(PINNED))
def test_preset_tables_are_bit_identical(name: str) -> None:
    assert table_checksum(name) == PINNED[name]
