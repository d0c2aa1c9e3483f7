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
    "default": "0a2a140d6ae0dd15dbec945b3fa6fc9631a36d6c821eac36dd561478ee56307e",
    "mid_market": "0a2a140d6ae0dd15dbec945b3fa6fc9631a36d6c821eac36dd561478ee56307e",
    "smb_inbound": "ad0e3a4754477734f00bcffa05a02cada6395c6d8e226ec92b9c90ba98b200d9",
    "enterprise": "63c76778badabde4c29c69b5aa9a6061883612dfe4fa8e45e730907a6ba8869c",
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
