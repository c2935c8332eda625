"""The `projector` command: serve, load, project."""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import secrets
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import uvicorn
from tqdm import tqdm

from projector import __version__
from projector.api.access import normalize_origin
from projector.api.app import create_app, dask_executor
from projector.api.auth import sign_in_query, token_file_warning, token_problem
from projector.api.headers import is_frame_source
from projector.data.formats import read_tensor
from projector.data.ingest import clean_name, ingest
from projector.data.logdir_import import import_checkpoint, import_logdir
from projector.data.parquet import ingest_parquet, is_parquet
from projector.data.sprite import parse_sprite_dim
from projector.data.store import Store
from projector.errors import ProjectorError
from projector.jobs.executors.local import LocalExecutor
from projector.jobs.lifecycle import Jobs
from projector.logdir.errors import LogdirError
from projector.settings import (
    DEFAULT_MAX_METADATA_MB,
    DEFAULT_MAX_QUEUED_JOBS,
    DEFAULT_MAX_UPLOAD_MB,
    MiB,
    Settings,
    default_data_dir,
)


class CommandError(Exception):
    """A user mistake: printed as one line, exit status 2."""


LOG_LEVELS = ("debug", "info", "warning", "error")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="projector", description="Embedding projector: PCA, t-SNE and UMAP of your embeddings.")
    parser.add_argument("--version", action="version", version=f"projector {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the API and the web client")
    serve.add_argument("--data-dir", type=Path, default=None, help="where datasets live (default $PROJECTOR_DATA_DIR or ~/.projector)")
    serve.add_argument("--logdir", type=Path, default=None, help="list the TensorBoard projector runs under this folder")
    serve.add_argument("--host", default="127.0.0.1", help="off loopback, a token is required (made up if none)")
    serve.add_argument("--port", type=int, default=6006, help="0 picks a free port")
    serve.add_argument("--no-demo", action="store_true", help="do not add the demo dataset to an empty data dir")
    serve.add_argument("--token", default=None, help="protect every /api route but /api/health with this token (default $PROJECTOR_TOKEN)")
    serve.add_argument("--token-file", type=Path, default=None, help="read the token from this file")
    serve.add_argument("--protect-reads", action="store_true", help=argparse.SUPPRESS)  # deprecated no-op: a token protects reads
    serve.add_argument("--allow-host", action="append", default=[], metavar="NAME", help="also answer to this Host name without a token")
    serve.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN", help="let pages of ORIGIN make changes")
    serve.add_argument("--frame-ancestors", action="append", default=[], metavar="ORIGIN", help="let pages of ORIGIN embed the page")
    serve.add_argument("--max-upload-mb", type=int, default=DEFAULT_MAX_UPLOAD_MB)
    serve.add_argument("--max-metadata-mb", type=int, default=DEFAULT_MAX_METADATA_MB)
    serve.add_argument("--max-queued-jobs", type=int, default=DEFAULT_MAX_QUEUED_JOBS, help="waiting projections; more get 429")
    serve.add_argument("--max-uploads", type=int, default=4, help="uploads received at once; more get 429")
    serve.add_argument("--max-streams", type=int, default=64, help="event streams open at once; more get 429")
    serve.add_argument("--workers", type=int, default=1, help="projection jobs that run at once")
    serve.add_argument("--body-timeout", type=float, default=30.0, help="drop an upload that sends nothing for this many seconds")
    serve.add_argument("--upload-deadline", type=float, default=3600.0, help="drop an upload still running after this many seconds")
    serve.add_argument("--no-warm-up", action="store_true", help="do not compile the t-SNE/UMAP kernels in the background at start")
    serve.add_argument("--log-level", default="info", choices=LOG_LEVELS, help="failed requests and job starts/ends are logged at info")
    serve.add_argument("--scheduler", metavar="ADDRESS", help="run projection work on a Dask cluster (default $PROJECTOR_SCHEDULER)")

    load = commands.add_parser("load", help="import a file into the data dir; prints the dataset id")
    load.add_argument("path", type=Path)
    load.add_argument("--metadata", type=Path, default=None, help="metadata TSV")
    load.add_argument("--sprite", type=Path, default=None, help="sprite PNG")
    load.add_argument("--sprite-dim", default=None, help="W,H of one thumbnail")
    load.add_argument("--name", default=None)
    load.add_argument("--member", default=None, help="array name inside an .npz or .safetensors")
    load.add_argument("--embedding", default=None, metavar="COL", help="Parquet: the list column holding the embedding")
    load.add_argument("--data-dir", type=Path, default=None)

    project = commands.add_parser("project", help="run one projection and write its coordinates")
    project.add_argument("dataset", help="dataset id or name")
    project.add_argument("--method", required=True, choices=["pca", "tsne", "umap"])
    project.add_argument("--dims", type=int, default=2, choices=[2, 3])
    project.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    project.add_argument("--out", type=Path, default=None, help="write the coordinates here (.npy, float32)")
    project.add_argument("--data-dir", type=Path, default=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return {"serve": cmd_serve, "load": cmd_load, "project": cmd_project}[args.command](args)
    except (ProjectorError, CommandError) as exc:
        print(f"projector: error: {getattr(exc, 'detail', exc)}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"projector: error: {exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("projector: interrupted", file=sys.stderr)
        return 130


# -- serve ----------------------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_token(args: argparse.Namespace) -> str | None:
    """--token, else --token-file, else $PROJECTOR_TOKEN; None when none is given."""
    token = _given_token(args)
    problem = token_problem(token) if token is not None else None
    if problem is not None:
        raise CommandError(problem)
    return token


def _given_token(args: argparse.Namespace) -> str | None:
    if args.token is not None and args.token_file is not None:
        raise CommandError("give --token or --token-file, not both")
    if args.token_file is not None:
        try:
            token = args.token_file.read_text().strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read --token-file {args.token_file}: {getattr(exc, 'strerror', None) or exc}") from None
        if not token:
            raise CommandError(f"--token-file {args.token_file} is empty")
        if (warning := token_file_warning(args.token_file)) is not None:
            print(f"projector: warning: {warning}", file=sys.stderr)
        return token
    token = args.token if args.token is not None else os.environ.get("PROJECTOR_TOKEN", "")
    if args.token is not None and not token.strip():
        raise CommandError("--token must not be empty")
    return token.strip() or None


def _check_limits(args: argparse.Namespace) -> None:
    for flag, value in (("--max-upload-mb", args.max_upload_mb), ("--max-metadata-mb", args.max_metadata_mb),
                        ("--max-queued-jobs", args.max_queued_jobs), ("--max-uploads", args.max_uploads),
                        ("--max-streams", args.max_streams)):  # fmt: skip
        if value < 1:
            raise CommandError(f"{flag} must be at least 1")
    for flag, value in (("--body-timeout", args.body_timeout), ("--upload-deadline", args.upload_deadline)):
        if not value > 0:
            raise CommandError(f"{flag} must be a positive number of seconds")
    for origin in args.cors_origin:
        if normalize_origin(origin) is None:
            raise CommandError(f"--cors-origin takes an origin such as http://localhost:8888, got {origin!r}")
    for origin in args.frame_ancestors:
        if not is_frame_source(origin):
            raise CommandError(f"--frame-ancestors takes an origin such as http://localhost:8888, got {origin!r}")


def cmd_serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    _check_limits(args)
    if args.logdir is not None and not args.logdir.is_dir():
        raise CommandError(f"--logdir {args.logdir} is not a folder")
    if args.protect_reads:
        print("projector: note: --protect-reads is deprecated and does nothing: a token now protects reads too", file=sys.stderr)
    token = resolve_token(args)
    if token is None and not _is_loopback(args.host):
        token = secrets.token_hex(24)
        note = "is reachable from other machines: a token was made up; sign in with the URL below"
        print(f"projector: --host {args.host} {note}", file=sys.stderr)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        raise CommandError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    port = sock.getsockname()[1]
    shown_host = f"[{args.host}]" if family == socket.AF_INET6 else args.host
    settings = Settings(
        data_dir=args.data_dir or default_data_dir(),
        logdir=args.logdir,
        host=args.host,
        port=port,
        demo=not args.no_demo,
        token=token,
        allow_hosts=tuple(args.allow_host),
        cors_origins=tuple(args.cors_origin),
        frame_ancestors=tuple(args.frame_ancestors),
        max_upload_bytes=args.max_upload_mb * MiB,
        max_metadata_bytes=args.max_metadata_mb * MiB,
        body_timeout=args.body_timeout,
        upload_deadline=args.upload_deadline,
        max_uploads=args.max_uploads,
        max_streams=args.max_streams,
        max_queued_jobs=args.max_queued_jobs,
        job_workers=max(1, args.workers),
        warm_up=not args.no_warm_up,
        scheduler=args.scheduler or os.environ.get("PROJECTOR_SCHEDULER") or None,
    )
    sign_in = sign_in_query(token) if token else ""

    class AnnouncingServer(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                print(f"projector serving at http://{shown_host}:{port}/{sign_in}", flush=True)

    app = create_app(settings)
    if settings.scheduler:  # reach the cluster and check its workers now: a problem is one line and exit status 2
        try:
            cluster = dask_executor(settings)
        except ProjectorError:
            sock.close()
            raise
        app = create_app(settings, executor=lambda _settings: cluster)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_keep_alive=5)
    AnnouncingServer(config).run(sockets=[sock])
    return 0


# -- load -----------------------------------------------------------------------------------------


def _progress_bar(total: int, unit: str, desc: str) -> Any:
    return tqdm(total=total, unit=unit, desc=desc, file=sys.stderr, disable=None, leave=False, unit_scale=True)


def cmd_load(args: argparse.Namespace) -> int:
    path: Path = args.path
    store = Store(args.data_dir or default_data_dir())
    if path.is_dir() or Path(f"{path}.index").exists() or path.suffix == ".index":
        return _load_logdir(store, path, args.name)
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    if args.metadata is not None and not args.metadata.is_file():
        raise CommandError(f"{args.metadata}: no such file")
    if path.suffix == ".parquet" or is_parquet(path):
        return _load_parquet(store, path, args)
    if args.embedding is not None:
        raise CommandError("--embedding names the embedding column of a Parquet file")
    array = read_tensor(path, member=args.member, scratch=store.dir.tmp)
    with _progress_bar(array.shape[0], "rows", f"loading {path.name}") as bar:
        dataset = ingest(
            store,
            name=clean_name(args.name, path.stem),
            source="upload",
            array=array,
            metadata=args.metadata,
            sprite_file=args.sprite,
            sprite_dim=parse_sprite_dim(args.sprite_dim) if args.sprite_dim else None,
            progress=bar.update,
        )
    print(f"loaded {dataset['name']!r}: {dataset['n']} × {dataset['dim']}, columns {dataset['columns']}", file=sys.stderr)
    print(dataset["id"])
    return 0


def _load_parquet(store: Store, path: Path, args: argparse.Namespace) -> int:
    """A Parquet file: its embedding column becomes the tensor, the other columns the metadata."""
    if args.metadata is not None:
        raise CommandError("a Parquet file carries its metadata in its columns; drop --metadata")
    with _progress_bar(0, "rows", f"loading {path.name}") as bar:
        dataset = ingest_parquet(
            store, path, name=clean_name(args.name, path.stem), embedding=args.embedding, progress=bar.update,
            sprite_file=args.sprite, sprite_dim=parse_sprite_dim(args.sprite_dim) if args.sprite_dim else None,
        )  # fmt: skip
    print(f"loaded {dataset['name']!r}: {dataset['n']} × {dataset['dim']}, columns {dataset['columns']}", file=sys.stderr)
    print(dataset["id"])
    return 0


def _load_logdir(store: Store, path: Path, name: str | None) -> int:
    """Import every good embedding of a TensorBoard log dir (or every 2-D float variable of one checkpoint).

    Each bad one is reported on one line; embeddings loaded before (same logdir, run, tensor and step)
    are not copied again. Fails only when nothing could be imported or found already loaded.
    """
    try:
        if path.is_dir():
            report = import_logdir(store, path, name)
        else:
            report = import_checkpoint(store, Path(str(path).removesuffix(".index")), name)
    except LogdirError as exc:
        raise CommandError(str(exc)) from None
    for line in report.warnings:
        print(f"projector: warning: {line}", file=sys.stderr)
    for line in report.skipped:
        print(f"projector: skipped {line}", file=sys.stderr)
    for dataset in report.existing:
        print(f"already loaded {dataset['name']!r} as {dataset['id']}", file=sys.stderr)
    for dataset in report.imported:
        print(f"loaded {dataset['name']!r}: {dataset['n']} × {dataset['dim']}", file=sys.stderr)
    if not report.imported and not report.existing:
        problems = len(report.skipped)
        raise CommandError(f"{path}: no embedding imported ({problems} skipped)" if problems else f"{path}: no embedding found")
    for dataset in report.existing + report.imported:
        print(dataset["id"])
    return 0


# -- project --------------------------------------------------------------------------------------


def parse_params(pairs: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise CommandError(f"--param takes KEY=VALUE, got {pair!r}")
        try:
            params[key] = json.loads(raw)
        except json.JSONDecodeError:
            params[key] = raw
    return params


def _show_progress(bar: Any) -> Any:
    """A lifecycle listener that moves a tqdm bar with the job's progress."""

    def show(projection: dict[str, Any]) -> None:
        bar.n = round(projection["progress"] * 1000)
        if projection["iteration"]:
            bar.set_postfix_str(f"iteration {projection['iteration']}", refresh=False)
        bar.refresh()

    return show


def cmd_project(args: argparse.Namespace) -> int:
    store = Store(args.data_dir or default_data_dir())
    jobs = Jobs(store, LocalExecutor(workers=1))
    try:
        dataset = store.find_dataset(args.dataset)
        projection = jobs.request(dataset["id"], args.method, args.dims, parse_params(args.param))
        pid, title = projection["id"], f"{projection['method']} {projection['dims']}D"
        if projection["status"] == "done":
            print(f"{title} served from the cache (projection {pid})", file=sys.stderr)
        else:
            try:
                with _progress_bar(1000, "", f"{title} of {dataset['name']}") as bar:
                    projection = jobs.wait(pid, on_change=_show_progress(bar), settled=True)
            except KeyboardInterrupt:
                jobs.cancel(pid)
                raise
            if projection["status"] != "done":
                raise CommandError(f"{title} {projection['status']}: {projection['error']}")
            quality = projection.get("quality") or {}
            scores = ", ".join(f"{key} {quality[key]:.3f}" for key in ("knn_preservation", "trustworthiness") if key in quality)
            print(f"{title} done (projection {pid}); quality: {scores}", file=sys.stderr)
        if args.out is not None:
            coords = store.load_coords(pid)
            np.save(args.out, coords)
            print(f"wrote {coords.shape[0]} × {coords.shape[1]} float32 to {args.out}", file=sys.stderr)
    finally:
        jobs.shutdown()
        store.close()
    print(pid)
    return 0
