"""Child process that parses one HDF5 weights file, so a libhdf5 crash or blow-up stays out of the server.

Run by :mod:`projector.logdir.keras_h5` as ``python _h5_child.py`` with the open file passed as a
descriptor. Reads a JSON request on stdin and answers one JSON line on stdout, followed for
"read" by the weight as raw little-endian float32. Imports nothing from projector.
"""

import sys

del sys.path[0]  # this file's folder: never let a sibling module shadow the standard library

import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402

try:
    import resource
except ImportError:  # pragma: no cover - not on POSIX
    resource = None  # type: ignore[assignment]

# Keras 3 names a layer's group after its class in snake case: embedding, embedding_1, ...
_EMBEDDING_GROUP = re.compile(r"^embedding(?:_(\d+))?$")


class Refused(Exception):
    """A file or weight we will not read; the message says why."""


def _limit(memory: int, hard: int, cpu: int) -> None:
    if resource is None:
        return
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # never writes a file
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory, hard))
    except (ValueError, OSError):  # pragma: no cover - e.g. a hard limit already lower
        pass


def _raise_memory(memory: int) -> None:
    if resource is None:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        memory = min(memory, hard)
    resource.setrlimit(resource.RLIMIT_AS, (memory, hard))


def _check_structure(h5py, handle) -> None:  # type: ignore[no-untyped-def]
    """Refuse soft and external links, external storage and virtual datasets anywhere in the file."""
    problems: list[str] = []  # callbacks must not raise through libhdf5: they stop the walk instead

    def link(name: str, info: object) -> bool | None:
        if isinstance(info, h5py.SoftLink):
            problems.append(f"HDF5 soft link {name!r} -> {info.path!r}; links are refused")
        elif isinstance(info, h5py.ExternalLink):
            problems.append(f"HDF5 external link {name!r} -> {info.filename!r}; links to other files are refused")
        return True if problems else None

    def dataset(name: str, obj: object) -> bool | None:
        if isinstance(obj, h5py.Dataset):
            if obj.is_virtual:
                problems.append(f"HDF5 dataset {name!r} is a virtual dataset (data in other files); refused")
            elif obj.external:
                problems.append(f"HDF5 dataset {name!r} keeps its data in external files; refused")
        return True if problems else None

    handle.visititems_links(link)
    if not problems:
        handle.visititems(dataset)
    if problems:
        raise Refused(problems[0])


def _layers(h5py, handle) -> list:  # type: ignore[no-untyped-def]
    found = []
    errors: list[str] = []

    def visit(name: str, obj: object) -> bool | None:
        try:
            _visit(name, obj)
        except Exception as exc:  # must not raise through libhdf5
            errors.append(f"corrupt HDF5 weights file at {name!r} ({exc})")
            return True
        return None

    def _visit(name: str, obj: object) -> None:
        if not isinstance(obj, h5py.Group):
            return
        parts = name.split("/")
        match = _EMBEDDING_GROUP.match(parts[-1])
        if match is None or len(parts) < 2 or parts[-2] != "layers":
            return
        data = obj.get("vars/0")
        if not isinstance(data, h5py.Dataset) or len(data.shape) != 2:
            return
        vars_group = obj.get("vars")
        layer_name = vars_group.attrs.get("name", parts[-1]) if vars_group is not None else parts[-1]
        if isinstance(layer_name, bytes):
            layer_name = layer_name.decode("utf-8", "replace")
        order = ("/".join(parts[:-1]), int(match.group(1) or 0))
        found.append((order, [f"{name}/vars/0", str(layer_name), [int(d) for d in data.shape]]))

    handle.visititems(visit)
    if errors:
        raise Refused(errors[0])
    return [layer for _, layer in sorted(found, key=lambda item: item[0])]


def _read(h5py, numpy, handle, name: str, max_values: int, memory: int, out) -> None:  # type: ignore[no-untyped-def]
    data = handle.get(name)
    if not isinstance(data, h5py.Dataset):
        raise Refused(f"no weight {name!r} in the file")
    if data.dtype.kind != "f":
        raise Refused(f"weight {name!r} has dtype {data.dtype}; only floating point can be shown")
    count = 1
    for dim in data.shape:
        count *= int(dim)
    if count > max_values:
        raise Refused(f"weight {name!r} declares shape {list(data.shape)}; at most {max_values:,} values are read")
    _raise_memory(memory + 3 * 8 * count)  # the stored values, their float32 copy and slack
    value = numpy.ascontiguousarray(data[()], dtype="<f4")
    out.write(json.dumps({"shape": list(value.shape)}).encode() + b"\n")
    out.write(memoryview(value).cast("B"))


def _answer(out, reply: dict) -> None:  # type: ignore[no-untyped-def,type-arg]
    out.write(json.dumps(reply).encode() + b"\n")
    out.flush()


def main() -> None:
    request = json.loads(sys.stdin.buffer.read(1 << 20))
    _limit(request["memory"], request["hard_memory"], request["cpu_seconds"])
    sys.path[:] = request["sys_path"]
    out = sys.stdout.buffer
    try:
        import h5py
        import numpy
    except Exception as exc:  # e.g. out of its address space already
        lines = str(exc).strip().splitlines() or [type(exc).__name__]
        _answer(out, {"error": f"the HDF5 reader could not start ({lines[-1]})"})
        return
    try:
        with os.fdopen(request["fd"], "rb") as fileobj, h5py.File(fileobj, "r") as handle:
            _check_structure(h5py, handle)
            if request["op"] == "list":
                _answer(out, {"layers": _layers(h5py, handle)})
            else:
                _read(h5py, numpy, handle, request["dataset"], request["max_values"], request["memory"], out)
                out.flush()
    except Refused as exc:
        _answer(out, {"error": str(exc)})
    except MemoryError:
        _answer(out, {"error": "the HDF5 reader ran out of its memory budget"})
    except Exception as exc:  # libhdf5's errors come as many types; each is one unreadable file
        _answer(out, {"error": f"not a readable HDF5 weights file ({exc})"})


if __name__ == "__main__":
    main()
