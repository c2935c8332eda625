"""The built-in demo dataset: scikit-learn's handwritten digits with their 8×8 thumbnails."""

from __future__ import annotations

from typing import Any

import numpy as np

from projector.data.ingest import ingest
from projector.data.metadata import Metadata
from projector.data.sprite import write_png
from projector.data.store import Store
from projector.logdir.png import tile_atlas

DEMO_NAME = "digits (demo)"


def digits_sprite(images: np.ndarray) -> np.ndarray:
    """Tile (n, 8, 8) images in 0..16 into one grey atlas, white digits on black."""
    return tile_atlas(np.rint(images * (255 / 16)).astype(np.uint8))


def add_demo(store: Store) -> dict[str, Any]:
    from sklearn.datasets import load_digits  # imported on use: scikit-learn takes seconds to import

    digits = load_digits()
    sprite = store.temp_path("demo-sprite")
    write_png(sprite, digits_sprite(digits.images))
    try:
        metadata = Metadata(["label"], [[str(int(t))] for t in digits.target])
        return ingest(
            store,
            name=DEMO_NAME,
            source="demo",
            array=digits.data.astype(np.float32),
            metadata=metadata,
            sprite_file=sprite,
            sprite_dim=(8, 8),
        )
    finally:
        sprite.unlink(missing_ok=True)
