"""Bounded resources: every hostile body is a 4xx JSON error, stores nothing, and costs the server little memory.

The live-server tests (marked `slow`) run against a real `projector serve` and measure its resident memory
(psutil, and Linux's peak-RSS counter) while it refuses each bomb.
"""

from __future__ import annotations

import asyncio
import io
import re
import struct
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from starlette.testclient import TestClient

from projector.api import request as request_module
from projector.api.app import create_app
from projector.api.limits import ConcurrencyLimits
from projector.data.ingest import ingest
from projector.data.store import Store
from projector.jobs.lifecycle import KEPT_CANCELLED, Jobs
from projector.logdir import tensor_tsv
from projector.logdir.limits import MAX_TSV_LINE_BYTES
from projector.settings import Settings
from tests.conftest import npy_bytes
from tests.projector.api.bombs import Memory, MiB, multipart, npy_header, npz_bomb, parquet_bomb, safetensors_bomb, send_raw
from tests.projector.jobs.test_lifecycle import ScriptedExecutor

GiB = 1 << 30
MEMORY_BOUND = 200 * MiB  # what one refused bomb may add to the server's peak resident memory


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail"} and body["error"] == code, body
    return body  # type: ignore[no-any-return]


def nothing_stored(api: TestClient, data_dir: Path) -> None:
    assert api.get("/api/datasets").json() == []
    assert list((data_dir / "datasets").iterdir()) == [] and list((data_dir / "tmp").iterdir()) == []


# -- .npz ------------------------------------------------------------------------------------------


def short_member(shape: tuple[int, int], data_bytes: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("embeddings.npy", npy_header(shape) + bytes(data_bytes))
    return buffer.getvalue()


def npz(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def test_a_deflate_bomb_is_413_before_anything_is_inflated(make_client: Callable[..., TestClient], tmp_path: Path) -> None:
    api = make_client()
    bomb = npz_bomb(2**19, 1024)  # 2 MB inflating to 2 GiB, under the default 4 GiB --max-upload-mb
    assert len(bomb) < 3 * MiB
    body = assert_error(api.post("/api/datasets", content=bomb, headers={"Content-Type": "application/zip"}), 413, "payload_too_large")
    assert "inflates" in body["detail"]
    as_part = api.post("/api/datasets", files={"tensor": ("t.npz", bomb)})
    assert_error(as_part, 413, "payload_too_large")
    nothing_stored(api, tmp_path / "data")


def test_npz_members_are_checked_against_the_upload_limit(make_client: Callable[..., TestClient], tmp_path: Path) -> None:
    api = make_client(max_upload_bytes=1 * MiB)
    honest = npz(embeddings=np.ones((600, 512), np.float32))  # 1.2 MB inflated, a few KB compressed
    assert len(honest) < MiB
    body = assert_error(api.post("/api/datasets", content=honest, headers={"Content-Type": "application/zip"}), 413, "payload_too_large")
    assert "--max-upload-mb" in body["detail"]
    nothing_stored(api, tmp_path / "data")


@pytest.mark.parametrize(
    ("archive", "message"),
    [
        (lambda: npz_bomb(2**10, 1024, declared=1000), "declares shape|Bad CRC"),  # a member inflating past its declared size
        (lambda: short_member((2**20, 1024), 1000), "declares shape"),  # the header's shape does not fit the member
        (lambda: npz_bomb(2**10, 1024, method=12), "compression method"),  # bzip2
        (lambda: npz_bomb(2**10, 1024, method=14), "compression method"),  # lzma
        (lambda: npz_bomb(2**8, 1024, members=300), "members"),
        (lambda: b"PK\x03\x04" + bytes(100), "end record"),
    ],
)
def test_malformed_or_lying_archives_are_400(api: TestClient, archive: Callable[[], bytes], message: str, tmp_path: Path) -> None:
    body = assert_error(api.post("/api/datasets", content=archive(), headers={"Content-Type": "application/zip"}), 400, "invalid_tensor")
    assert re.search(message, body["detail"]), body
    nothing_stored(api, tmp_path / "data")


def test_a_member_inflating_past_its_declared_size_stops_there(tmp_path: Path) -> None:
    from projector.data.formats import read_npz

    lying = tmp_path / "lying.npz"
    rows = 2**12
    data = npz_bomb(rows, 1024)
    # declare the header's size plus 1 MiB for a member that inflates to 16 MiB: the header is then also a lie
    lying.write_bytes(data.replace((rows * 1024 * 4 + 128).to_bytes(4, "little"), (128 + MiB).to_bytes(4, "little")))
    with pytest.raises(Exception, match="declares shape"):
        read_npz(lying, limit=GiB, scratch=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lying.npz"]


def test_honest_npz_still_load(api: TestClient) -> None:
    matrix = np.random.default_rng(0).normal(size=(50, 8)).astype(np.float32)
    created = api.post("/api/datasets", content=npz(embeddings=matrix, labels=np.arange(50)), headers={"Content-Type": "application/zip"})
    assert created.status_code == 201, created.text
    stored = np.frombuffer(api.get(f"/api/datasets/{created.json()['id']}/tensor").content, "<f4").reshape(50, 8)
    np.testing.assert_array_equal(stored, matrix)
    stored_zip = io.BytesIO()
    with zipfile.ZipFile(stored_zip, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("arr_0.npy", npy_bytes(matrix))
    assert api.post("/api/datasets", content=stored_zip.getvalue(), headers={"Content-Type": "application/x-npz"}).status_code == 201


def test_a_parquet_text_bomb_is_413_before_it_is_decoded(api: TestClient, tmp_path: Path) -> None:
    bomb = parquet_bomb()  # ~2 KB decoding to 2 GB of label text
    assert len(bomb) < 64 * 1024
    refused = api.post("/api/datasets", content=bomb, headers={"Content-Type": "application/vnd.apache.parquet"})
    assert "bytes of text" in assert_error(refused, 413, "payload_too_large")["detail"]
    nothing_stored(api, tmp_path / "data")


def test_a_safetensors_header_bomb_is_refused_before_it_is_parsed(api: TestClient, tmp_path: Path) -> None:
    refused = api.post("/api/datasets", content=safetensors_bomb(15 * MiB), headers={"Content-Type": "application/x-safetensors"})
    assert "entries" in assert_error(refused, 400, "invalid_tensor")["detail"]
    refused = api.post("/api/datasets", content=safetensors_bomb(17 * MiB), headers={"Content-Type": "application/x-safetensors"})
    assert "at most 16,777,216 are read" in assert_error(refused, 400, "invalid_tensor")["detail"]
    nothing_stored(api, tmp_path / "data")


def test_bodies_scaled_by_the_dataset_are_still_capped_in_memory(api: TestClient) -> None:
    line = b"0.5\t" * 99_999 + b"0.5\n"
    wide = api.post("/api/datasets", content=line * 2, headers={"Content-Type": "text/tab-separated-values"}).json()
    assert wide["dim"] == 100_000  # 1,000 JSON query vectors of it were allowed 3.2 GB in memory
    url = f"/api/datasets/{wide['id']}/neighbors"
    declared = api.post(url, content=b"{}", headers={"Content-Type": "application/json", "Content-Length": str(3 << 30)})
    assert "65,536 KiB" in assert_error(declared, 413, "payload_too_large")["detail"]
    streamed = api.post(url, content=(b" " * MiB for _ in range(70)), headers={"Content-Type": "application/json"})
    assert_error(streamed, 413, "payload_too_large")
    raw = api.post(
        url, content=(bytes(MiB) for _ in range(70)), headers={"Content-Type": "application/octet-stream", "X-Shape": "1000,100000"}
    )
    assert_error(raw, 413, "payload_too_large")  # X-Shape asks for 400 MB of float32


def test_bodies_read_into_memory_at_once_are_capped_in_total(
    api: TestClient, dataset: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(request_module, "MAX_BODIES_IN_MEMORY", 100 * 1024)
    monkeypatch.setattr(request_module, "_held", [90 * 1024])  # other requests' bodies being read now
    body = orjson.dumps({"name": "x", "rows": list(range(dataset["n"]))}) + b" " * (20 * 1024)
    refused = api.post(f"/api/datasets/{dataset['id']}/selections", content=body, headers={"Content-Type": "application/json"})
    assert_error(refused, 429, "too_many_bodies")
    assert refused.headers["retry-after"] == "5" and request_module._held[0] == 90 * 1024  # its own bytes were released
    request_module._held[0] = 0
    assert (
        api.post(f"/api/datasets/{dataset['id']}/selections", content=body, headers={"Content-Type": "application/json"}).status_code < 300
    )


def test_a_tensor_tsv_line_is_at_most_4_mib(api: TestClient, tmp_path: Path) -> None:
    line = b"1\t" * (3 * MiB) + b"1\n"  # parsing short values costs ~10x the line: two 64 MB lines took 1.2 GB
    refused = api.post("/api/datasets", content=line * 2, headers={"Content-Type": "text/tab-separated-values"})
    assert "longer than 4,194,304 bytes" in assert_error(refused, 400, "invalid_tensor")["detail"]
    assert tensor_tsv._BLOCK <= MAX_TSV_LINE_BYTES  # lines inside one read block are never checked
    nothing_stored(api, tmp_path / "data")


@pytest.mark.parametrize("shape", [(2**62, 4), (4, 2**62), (2**32, 2**32)])
def test_npy_shapes_whose_size_overflows_int64_are_400(api: TestClient, shape: tuple[int, int]) -> None:
    body = npy_header(shape) + bytes(64)  # 2**62 × 4 × 4 bytes wraps to 0 in int64 arithmetic
    refused = api.post("/api/datasets", content=body, headers={"Content-Type": "application/x-npy"})
    assert "declares shape" in assert_error(refused, 400, "invalid_tensor")["detail"]
    member = io.BytesIO()
    with zipfile.ZipFile(member, "w") as archive:
        archive.writestr("embeddings.npy", body)
    refused = api.post("/api/datasets", content=member.getvalue(), headers={"Content-Type": "application/zip"})
    assert refused.status_code in (400, 413), refused.text


def test_a_safetensors_header_is_checked_entry_by_entry(api: TestClient) -> None:
    for shape in ("a" * (8 * MiB), list(range(100)), [2, -1], [2, "2"]):
        header = orjson.dumps({"x": {"dtype": "F32", "shape": shape, "data_offsets": [0, 16]}})
        body = struct.pack("<Q", len(header)) + header + bytes(16)
        refused = api.post("/api/datasets", content=body, headers={"Content-Type": "application/x-safetensors"})
        assert "declares a shape" in assert_error(refused, 400, "invalid_tensor")["detail"]
    for dtype, offsets in ((["F32"], [0, 16]), ("F32", "ab"), ("F32", [0]), ("F32", [0, "x"]), ("F32", None), ("F32", [0.0, 16.0])):
        header = orjson.dumps({"x": {"dtype": dtype, "shape": [2, 2], "data_offsets": offsets}})
        body = struct.pack("<Q", len(header)) + header + bytes(16)
        refused = api.post("/api/datasets", content=body, headers={"Content-Type": "application/x-safetensors"})
        assert_error(refused, 400, "invalid_tensor")  # never a 500


def test_a_metadata_edit_cannot_grow_the_metadata_past_its_limit(api: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from projector.data import edits

    monkeypatch.setattr(edits, "MAX_METADATA_BYTES", 4 * MiB)  # 512 MiB in service; the rule is the same
    created = api.post("/api/datasets", content=npy_bytes(np.zeros((2000, 2), np.float32)), headers={"Content-Type": "application/x-npy"})
    url = f"/api/datasets/{created.json()['id']}/metadata"
    before = api.get(url).content
    refused = api.patch(url, json={"column": "pad", "rows": list(range(2000)), "value": "x" * 10_000})  # 20 MB from a 12 KB body
    assert "at most" in assert_error(refused, 413, "payload_too_large")["detail"]
    assert api.get(url).content == before
    assert api.patch(url, json={"column": "tag", "rows": list(range(2000)), "value": "cluster A"}).status_code == 200


# -- JSON bodies -----------------------------------------------------------------------------------


def test_json_bodies_are_refused_past_1_mib(api: TestClient, dataset: dict[str, Any]) -> None:
    url = f"/api/datasets/{dataset['id']}/projections"
    big = b'{"method": "pca", "params": {"pad": "' + b"x" * (2 * MiB) + b'"}}'
    assert_error(api.post(url, content=big, headers={"Content-Type": "application/json"}), 413, "payload_too_large")
    declared = api.post(url, content=b"{}", headers={"Content-Type": "application/json", "Content-Length": str(5 * MiB)})
    assert_error(declared, 413, "payload_too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: refused while it streams
        yield b'{"method": "pca", "params": {"pad": "'
        for _ in range(4):
            yield b"x" * (512 * 1024)
        yield b'"}}'

    assert_error(api.post(url, content=chunks(), headers={"Content-Type": "application/json"}), 413, "payload_too_large")
    assert api.get(url).json() == []


# -- metadata --------------------------------------------------------------------------------------


def test_metadata_stops_one_row_past_the_tensor(api: TestClient, tmp_path: Path) -> None:
    tensor = npy_bytes(np.ones((10, 4), np.float32))
    newlines = api.post("/api/datasets", files={"tensor": ("t.npy", tensor), "metadata": ("m.tsv", b"\n" * (20 * MiB))})
    assert "more than 11 rows" in assert_error(newlines, 400, "metadata_mismatch")["detail"]
    table = api.post("/api/datasets", files={"tensor": ("t.npy", tensor), "metadata": ("m.tsv", b"a\tb\n" + b"1\t2\n" * MiB)})
    assert "more than 10 rows" in assert_error(table, 400, "metadata_mismatch")["detail"]
    wide = api.post("/api/datasets", files={"tensor": ("t.npy", tensor), "metadata": ("m.tsv", b"\t" * (8 * MiB) + b"\n")})
    assert_error(wide, 400, "invalid_metadata")
    nothing_stored(api, tmp_path / "data")


def test_metadata_has_its_own_limit(make_client: Callable[..., TestClient], tmp_path: Path) -> None:
    api = make_client(max_metadata_bytes=1 * MiB)
    tensor = npy_bytes(np.ones((10, 4), np.float32))
    refused = api.post("/api/datasets", files={"tensor": ("t.npy", tensor), "metadata": ("m.tsv", b"x\n" * MiB)})
    assert "--max-metadata-mb" in assert_error(refused, 413, "payload_too_large")["detail"]
    nothing_stored(api, tmp_path / "data")
    labels = "".join(f"w{i}\n" for i in range(10)).encode()
    assert api.post("/api/datasets", files={"tensor": ("t.npy", tensor), "metadata": ("m.tsv", labels)}).status_code == 201


def test_multipart_part_headers_are_bounded(api: TestClient) -> None:
    body = b'--b\r\nContent-Disposition: form-data; name="tensor"\r\nX-Pad: ' + b"x" * (4 * MiB) + b"\r\n\r\n1\r\n--b--\r\n"
    refused = api.post("/api/datasets", content=body, headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert_error(refused, 400, "invalid_multipart")


# -- the job queue ---------------------------------------------------------------------------------


def test_the_job_queue_is_bounded_with_429_and_retry_after(tmp_path: Path, vectors: np.ndarray) -> None:
    executor = ScriptedExecutor()  # runs nothing: every job stays queued
    settings = Settings(data_dir=tmp_path / "data", demo=False, max_queued_jobs=3)
    with TestClient(create_app(settings, executor=lambda _: executor), base_url="http://127.0.0.1") as api:
        dataset = api.post("/api/datasets", content=npy_bytes(vectors), headers={"Content-Type": "application/x-npy"}).json()
        url = f"/api/datasets/{dataset['id']}/projections"
        queued = [api.post(url, json={"method": "pca", "params": {"components": [0, k]}}) for k in (1, 2, 3)]
        assert [r.status_code for r in queued] == [202, 202, 202], [r.text for r in queued]
        flood = api.post(url, json={"method": "pca", "params": {"components": [0, 4]}})
        body = assert_error(flood, 429, "queue_full")
        assert int(flood.headers["retry-after"]) > 0 and "--max-queued-jobs" in body["detail"]
        assert len(api.get(url).json()) == 3  # the refused request left no catalog row
        again = api.post(url, json={"method": "pca", "params": {"components": [0, 1]}})  # a cached request is still answered
        assert again.status_code == 202 and again.json()["id"] == queued[0].json()["id"]
        pid = queued[0].json()["id"]
        executor.emits[pid](("running",))  # one starts: a place in the queue frees up
        assert api.post(url, json={"method": "pca", "params": {"components": [0, 4]}}).status_code == 202


def test_finished_and_cancelled_jobs_leave_memory(tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    executor = ScriptedExecutor()
    jobs = Jobs(store, executor, max_queued=1000)
    dataset = ingest(store, name="x", source="upload", array=np.random.default_rng(0).normal(size=(64, 64)).astype(np.float32))
    pids = [jobs.request(dataset["id"], "pca", 2, {"components": [i, i + 1]})["id"] for i in range(60)]
    for i, pid in enumerate(pids):
        emit = executor.emits[pid]
        emit(("running",))
        emit(("frame", 1, (64, 2), bytes(512)))
        if i % 2:
            jobs.cancel(pid)
        else:
            emit(("error", "boom"))
        emit(("ended", None))
    assert len(jobs._jobs) <= KEPT_CANCELLED  # only the last few cancelled jobs keep their frame
    assert all(jobs.get(pid)["status"] in ("failed", "cancelled") for pid in pids)
    jobs.shutdown()
    store.close()


# -- concurrent uploads and event streams ----------------------------------------------------------


def test_concurrency_gates_answer_429_and_free_their_place(tmp_path: Path) -> None:
    release = asyncio.Event()

    async def slow_app(scope: Any, receive: Any, send: Any) -> None:
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    limits = ConcurrencyLimits(slow_app, Settings(data_dir=tmp_path, max_uploads=2, max_streams=1))

    async def call(method: str, path: str) -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await limits({"type": "http", "method": method, "path": path, "headers": []}, None, send)
        return sent

    async def scenario() -> None:
        uploads = [asyncio.create_task(call("POST", "/api/datasets")) for _ in range(2)]
        stream = asyncio.create_task(call("GET", "/api/projections/abc/events"))
        await asyncio.sleep(0.05)
        third = await call("POST", "/api/datasets")
        second_stream = await call("GET", "/api/projections/def/events")
        for refused, code in ((third, b"too_many_uploads"), (second_stream, b"too_many_streams")):
            assert refused[0]["status"] == 429 and (b"retry-after", b"5") in refused[0]["headers"] and code in refused[1]["body"]
        other = asyncio.create_task(call("GET", "/api/datasets"))  # ungated routes are not held up
        release.set()
        for task in (*uploads, stream, other):
            assert (await task)[0]["status"] == 200
        assert (await call("POST", "/api/datasets"))[0]["status"] == 200  # places are given back

    asyncio.run(scenario())


# -- what errors and status routes reveal ----------------------------------------------------------


def test_logdir_status_names_no_absolute_paths(make_client: Callable[..., TestClient], tmp_path: Path) -> None:
    logdir = tmp_path / "secret-home" / "logs"
    (logdir / "bad").mkdir(parents=True)
    (logdir / "bad" / "projector_config.pbtxt").write_text('embeddings { tensor_path: "missing.tsv" }\n')
    api = make_client(logdir=logdir)
    deadline = time.monotonic() + 30
    while (status := api.get("/api/logdir").json())["scans"] < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert status["logdir"] == "logs" and status["problems"], status
    assert not any(str(tmp_path) in problem or "secret-home" in problem for problem in status["problems"]), status


# -- live server: the memory each bomb costs -------------------------------------------------------


@pytest.fixture
def live(server_factory: Callable[..., Any]) -> Iterator[tuple[Any, Memory]]:
    server = server_factory("--no-demo")
    memory = Memory(server.served.pid)
    yield server, memory
    assert server.served.alive()


def report(name: str, memory: Memory) -> None:
    print(f"\n[rss] {name}: rss before {memory.base / MiB:.0f} MiB, peak growth {memory.growth() / MiB:.1f} MiB")
    assert memory.growth() < MEMORY_BOUND


@pytest.mark.slow
def test_live_bombs_cost_little_memory(live: tuple[Any, Memory]) -> None:
    server, memory = live
    url = server.url

    memory.reset()
    bomb = npz_bomb(2**19, 1024)
    status, _, body = send_raw(url, "POST", "/api/datasets", {"Content-Type": "application/zip", "Content-Length": str(len(bomb))}, [bomb])
    assert status == 413 and b"payload_too_large" in body, body
    report("npz 2 MB -> 2 GiB", memory)

    memory.reset()
    tensor = npy_bytes(np.ones((10, 4), np.float32))
    chunks, length, content_type = multipart([("tensor", tensor, 1), ("metadata", b"\n" * MiB, 150)])
    started = time.monotonic()
    status, _, body = send_raw(url, "POST", "/api/datasets", {"Content-Type": content_type, "Content-Length": str(length)}, chunks)
    assert status == 400 and b"metadata_mismatch" in body, body
    print(f"\n[time] 150 MB of newlines for a 10-row tensor: {time.monotonic() - started:.2f} s")
    report("metadata 150 MB of newlines, 10 rows", memory)

    memory.reset()
    bomb = parquet_bomb()
    headers = {"Content-Type": "application/vnd.apache.parquet", "Content-Length": str(len(bomb))}
    status, _, body = send_raw(url, "POST", "/api/datasets", headers, [bomb])
    assert status == 413 and b"payload_too_large" in body, body
    report("Parquet 2 KB -> 2 GB of label text", memory)

    memory.reset()
    shape = orjson.dumps({"x": {"dtype": "F32", "shape": "a" * (16 * MiB - 100), "data_offsets": [0, 16]}})
    for bomb in (safetensors_bomb(16 * MiB - 16), struct.pack("<Q", len(shape)) + shape + bytes(16), safetensors_bomb(100 * MiB)):
        headers = {"Content-Type": "application/x-safetensors", "Content-Length": str(len(bomb))}
        status, _, body = send_raw(url, "POST", "/api/datasets", headers, [bomb])
        assert status == 400 and b"invalid_tensor" in body, body
    report("safetensors 16 MB headers of {} and of one string shape, a 100 MB header", memory)

    memory.reset()
    dataset = _upload(url)
    chunks = (b"[" * MiB for _ in range(256))  # 256 MiB of JSON, chunked, without a Content-Length
    status, _, body = send_raw(
        url, "POST", f"/api/datasets/{dataset}/projections", {"Content-Type": "application/json"}, chunks, chunked=True
    )
    assert status == 413 and b"payload_too_large" in body, body
    report("JSON 256 MiB chunked", memory)

    memory.reset()
    query = "q=" + "%28%3F%3A%28%3F%3Aa%7B1000%7D%29%7B1000%7D%29%7B1000%7D"  # (?:(?:a{1000}){1000}){1000}
    status, _, body = send_raw(url, "GET", f"/api/datasets/{dataset}/search?{query}", {}, [])
    assert status == 400 and b"invalid_regex" in body, body
    wide = "%5B%5CpL%5CpN%5D%7B1000%7D" * 50  # ([\pL\pN]{1000}) × 50: RE2's program would outgrow its budget
    status, _, body = send_raw(url, "GET", f"/api/datasets/{dataset}/search?q={wide}", {}, [])
    assert status == 400 and b"invalid_regex" in body, body
    report("regex compile bombs", memory)

    status, _, body = send_raw(url, "GET", "/api/datasets", {}, [])
    assert status == 200 and body.count(b'"id"') == 1  # still serving; only the honest dataset is stored


@pytest.mark.slow
def test_live_uploads_are_bounded_in_number_and_time(server_factory: Callable[..., Any]) -> None:
    server = server_factory("--no-demo", "--max-uploads", "1", "--upload-deadline", "2", "--body-timeout", "30")
    import threading

    results: list[tuple[int, dict[str, str], bytes]] = []

    def trickle() -> Iterator[bytes]:
        for _ in range(100):  # 1 byte every 0.2 s: never idle for 30 s, but past the 2 s deadline
            yield b"1"
            time.sleep(0.2)

    slow = threading.Thread(
        target=lambda: results.append(
            send_raw(server.url, "POST", "/api/datasets", {"Content-Type": "text/tab-separated-values", "Content-Length": "100"}, trickle())
        )
    )
    slow.start()
    time.sleep(1.0)
    status, headers, body = send_raw(
        server.url, "POST", "/api/datasets", {"Content-Type": "text/tab-separated-values", "Content-Length": "8"}, [b"1\t2\n3\t4\n"]
    )
    assert status == 429 and b"too_many_uploads" in body and headers["retry-after"] == "5", body
    slow.join(60)
    assert results and results[0][0] == 408 and b"--upload-deadline" in results[0][2], results
    status, _, _ = send_raw(
        server.url, "POST", "/api/datasets", {"Content-Type": "text/tab-separated-values", "Content-Length": "8"}, [b"1\t2\n3\t4\n"]
    )
    assert status == 201


def _upload(url: str) -> str:
    body = npy_bytes(np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32))
    status, _, answer = send_raw(
        url, "POST", "/api/datasets", {"Content-Type": "application/x-npy", "Content-Length": str(len(body))}, [body]
    )
    assert status == 201, answer
    return answer.split(b'"id":"', 1)[1].split(b'"', 1)[0].decode()
