"""Compiling a contract written in a test, so that a test can serve a service the project's code
has never seen (as a new agency joining the network would)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from types import ModuleType

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def compiled(
    folder: Path, relative_path: str, source: str
) -> Iterator[tuple[ModuleType, ModuleType]]:
    """Compile `source` (saved as `relative_path`) and import its `_pb2` and `_pb2_grpc`."""
    protos, out = folder / "protos", folder / "gen"
    target = protos / relative_path
    target.parent.mkdir(parents=True, exist_ok=True)
    out.mkdir(exist_ok=True)
    target.write_text(source)
    status = protoc.main(
        [
            "protoc",
            f"-I{protos}",
            f"-I{ROOT / 'protos'}",
            f"-I{ROOT / 'third_party' / 'googleapis'}",
            f"-I{resources.files('grpc_tools') / '_proto'}",  # the well-known types
            f"--python_out={out}",
            f"--grpc_python_out={out}",
            str(target),
        ]
    )
    if status != 0:
        raise RuntimeError(f"protoc failed on {relative_path}")
    module = relative_path.removesuffix(".proto").replace("/", ".")
    sys.path.insert(0, str(out))
    try:
        yield (
            importlib.import_module(f"{module}_pb2"),
            importlib.import_module(f"{module}_pb2_grpc"),
        )
    finally:
        sys.path.remove(str(out))
