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
    "default": "ac9d4b451c0262819ae570524136763aa9f46fe9b192bd419a9c078f2045eacc",
    "mid_market": "ac9d4b451c0262819ae570524136763aa9f46fe9b192bd419a9c078f2045eacc",
    "smb_inbound": "e27a6d972007e1311f73b469e590c90132a29ae973596408e7cc1dbe15f55f7a",
    "enterprise": "162bb96d2cbac71788c2956735494e03bf9f2c6c164c2fa24173fd83c0de006b",
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
