"""The layout rules: dependencies point down, and service code stays transport-agnostic.

In every service: `service/` imports neither grpc nor sqlalchemy nor its own transport or storage
(storage implements the service layer's ports, so storage may import service, not the reverse);
`storage/` does not import grpc or transport. Only the composition root (`server.py`) wires them.
No service imports another service's package: they talk through the router.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"
#: Not services: the shared runtime, the edge (Envoy's configuration, no gRPC server) and the
#: demo (a client of the running mesh); the portal (web pages and the development identity
#: provider over HTTPS, no gRPC server).
NOT_SERVICES = ("runtime", "edge", "demo", "portal")
SERVICES = sorted(
    p.name
    for p in SERVICES_DIR.iterdir()
    if (p / "__init__.py").exists() and p.name not in NOT_SERVICES
)


def _imports(folder: Path) -> dict[Path, set[str]]:
    found: dict[Path, set[str]] = {}
    for path in folder.rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[path] = names
    return found


def _offending(folder: Path, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(SERVICES_DIR)} imports {name}"
        for path, names in _imports(folder).items()
        for name in names
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]


@pytest.mark.parametrize("service", SERVICES)
def test_service_layer_imports_no_transport_when_checked(service: str) -> None:
    forbidden = ("grpc", "sqlalchemy", "alembic", f"{service}.transport", f"{service}.storage")
    assert _offending(SERVICES_DIR / service / "service", forbidden) == []


@pytest.mark.parametrize("service", SERVICES)
def test_storage_imports_no_grpc_when_checked(service: str) -> None:
    forbidden = ("grpc", f"{service}.transport", "cbss")
    assert _offending(SERVICES_DIR / service / "storage", forbidden) == []


@pytest.mark.parametrize("service", SERVICES)
def test_service_imports_no_other_service_when_checked(service: str) -> None:
    others = tuple(s for s in SERVICES if s != service)
    assert _offending(SERVICES_DIR / service, others) == []


def test_edge_imports_no_service_when_checked() -> None:
    """The edge reads the contracts (generated code) and the runtime, never a service."""
    assert _offending(SERVICES_DIR / "edge", tuple(SERVICES)) == []


def test_runtime_pure_modules_import_no_transport_when_checked() -> None:
    for module in ("errors", "clock", "identifiers", "identity"):
        path = SERVICES_DIR / "runtime" / f"{module}.py"
        names = _imports(path.parent)[path]
        assert not {n for n in names if n.split(".")[0] in ("grpc", "sqlalchemy")}, module


def test_every_service_has_the_standard_layout_when_it_has_code() -> None:
    for service in SERVICES:
        root = SERVICES_DIR / service
        for part in ("__main__.py", "config.py", "server.py", "transport", "service", "storage"):
            assert (root / part).exists(), f"{service} lacks {part}"
