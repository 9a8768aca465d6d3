"""A request is matched to the product it names before a description of what it does."""

from __future__ import annotations

import pytest

from infrawright.catalog import builtin_catalog
from infrawright.plan.matching import match_catalog


@pytest.mark.parametrize(
    ("request_text", "entry"),
    [
        # "object storage" (an alias of rook-ceph) is longer than "minio", but the user
        # named MinIO.
        ("Add MinIO for S3-compatible object storage", "minio-operator"),
        ("add object storage", "rook-ceph"),  # only the description: its entry
        ("install ceph", "rook-ceph"),
        ("we need metallb", "metallb"),
        ("Set Prometheus retention to 15d", "kube-prometheus-stack"),
    ],
)
def test_the_named_product_wins(request_text: str, entry: str) -> None:
    found = match_catalog(builtin_catalog(), request_text)
    assert found is not None and found.name == entry
