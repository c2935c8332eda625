"""Which stored tensors are embeddings, and the names, steps and keys they are listed under."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from .checkpoint import FLOAT_DTYPES

__all__ = ["digest", "display_name", "is_embedding_variable", "match_tensor_name", "split_step"]

VARIABLE_SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"
# TF1 optimizer slots are stored as "<variable>/<Optimizer>[_1]"
_TF1_SLOT = re.compile(r"/(Adam|Adam_1|Momentum|RMSProp|RMSProp_1|Adagrad|AdagradDA|Adadelta|Adadelta_1|Ftrl|Ftrl_1|Nadam|Nadam_1)$")
_STEPPED_NAME = re.compile(r"^(.*):(\d+)$")


def digest(*parts: object) -> str:
    """A short stable key from the parts (run, kind, names, step): the same on every machine."""
    text = "\x00".join("" if p is None else str(p) for p in parts)
    return hashlib.sha1(text.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def display_name(key: str) -> str:
    """A checkpoint key as shown to people: TF2's ``/.ATTRIBUTES/VARIABLE_VALUE`` dropped."""
    return key.removesuffix(VARIABLE_SUFFIX)


def match_tensor_name(name: str, variables: dict[str, tuple[str, tuple[int, ...]]]) -> str | None:
    """The checkpoint key a config's `tensor_name` means, or None.

    Tries the name itself (trailing ``:0`` dropped), then ``<name>/.ATTRIBUTES/VARIABLE_VALUE``,
    then a unique key whose path ends with ``/<name>``.
    """
    name = name.removesuffix(":0")
    for candidate in (name, name + VARIABLE_SUFFIX):
        if candidate in variables:
            return candidate
    tail = "/" + display_name(name)
    matches = [
        k for k in variables
        if display_name(k).endswith(tail) and ".OPTIMIZER_SLOT" not in k and k.endswith(VARIABLE_SUFFIX)
    ]  # fmt: skip
    return matches[0] if len(matches) == 1 else None


def is_embedding_variable(key: str, dtype: str, shape: tuple[int, ...]) -> bool:
    """TensorBoard's rule (2-D, not an optimizer slot), limited to floating-point tensors.

    Keras 3 optimizer state (``optimizer/_variables/...``) and TF1 slots (``var/Adam``) are
    slots too, though they lack the ``.OPTIMIZER_SLOT`` marker.
    """
    if len(shape) != 2 or dtype not in FLOAT_DTYPES:
        return False
    if ".OPTIMIZER_SLOT" in key or key.startswith("optimizer/") or _TF1_SLOT.search(key):
        return False
    return not key.startswith("\x00")


def split_step(tensor_name: str, tensor_path: str) -> tuple[str, int | None]:
    """``tag:00005`` (add_embedding's naming) -> ("tag", 5); other names have no step."""
    match = _STEPPED_NAME.match(tensor_name)
    if match:
        digits = match.group(2)
        first_dir = Path(tensor_path).parts[0] if tensor_path else ""
        if len(digits) >= 5 or first_dir == digits:
            return match.group(1), int(digits)
        if digits == "0":
            return match.group(1), None
    return tensor_name, None
