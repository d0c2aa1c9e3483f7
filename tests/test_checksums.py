"""Same seed, same tables, bit for bit: every preset's results are pinned to checksums committed
here. A change that alters any simulated or measured number fails this test; when the change is
meant to alter results, the new checksums are committed with it and the reason says why."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from sla_sim import preset, preset_names, run_replications

# re-pinned for sla.mql_commitment_basis (default "day"): mql_commitment and
# mql_volume_breach change; with basis "month" the previous checksums are reproduced exactly.
# re-pinned for the advice changes (measurement only, the simulation is unchanged): acceptance is
# judged over the MQLs sales reached (new metrics unworked_mqls, unworked_rate), and the monthly
# revenue target follows sla.mql_commitment_basis like the MQL commitment.
# re-pinned for AE selling time (the model changes on purpose): AE capacity is selling hours on the
# AE calendar (ae.selling_hours_per_opportunity, selling_share, calendar), so opportunities open
# when an AE is free to sell; the presets' AE counts follow (44, 22 and 54 AEs); the metric
# ae_wait_business_hours_mean is new and ae_utilization counts selling hours.
PINNED = {
    "default": "2b777d70b8fa0e1e27ab2e225e237d879afe04a87f453647504e42fd557f91b2",
    "mid_market": "2b777d70b8fa0e1e27ab2e225e237d879afe04a87f453647504e42fd557f91b2",
    # (earlier re-pinned: smb_inbound's won curve re-derived from the Olist data;
    # see tests/test_crm_presets.py; re-pinned for its 150-day warm-up, which lets the pipeline
    # fill before the measured window: 45 days left revenue rising through it)
    "smb_inbound": "01e955f26bd379583c62f6f12cc1ca110ee9e5656436eaa6dcaaf780643e0815",
    "enterprise": "8ca5bf39865f78d79b84350360c5ba1291e1a53fccb75a66795e9d63168b64c4",
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
