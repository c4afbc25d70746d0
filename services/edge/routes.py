"""Which gRPC method the edge sends where, read from the contracts themselves.

One rule, from each method's `(cbss.common.v1.access)` option: a consultation (ACCESS_ROUTED)
goes to the router, which checks and forwards it; a method its owner answers directly
(ACCESS_DIRECT) goes to the owner — only for the services the edge exposes (`EXPOSED`, below:
the declarations employers file, what institutions manage at the CBSS, and the operators' admin
APIs). Everything else (the register's own mutations, the event feeds the mutation service
reads, institution inboxes, the echo) stays inside the mesh: the edge has no route to it and
answers UNIMPLEMENTED.

REST/JSON: the methods whose contract carries a `google.api.http` annotation are also reachable as
REST/JSON — Envoy's gRPC-JSON transcoder turns the HTTP request into the gRPC call, which then
takes the same route (`transcoded_services`).

The portal (people in a browser, edge.envoy's browser listener): only the REST/JSON methods meant
for people — what employers file and read at the ONSS's services (the ACCESS_DIRECT methods of
`DECLARATION_SERVICES`), the consultations a person may make about themself (the contracts'
`self_service` option: the router applies its self-service rule) and the router's
`CitizenService` (`PORTAL_ONLY`: never on the certificate listener) — `portal_routes`. Nothing
else is reachable from a browser: no gRPC method without an annotation, no institution or admin API.

Retries at the edge only for methods whose contract declares them safe to repeat
(`idempotency_level` NO_SIDE_EFFECTS or IDEMPOTENT). Admin APIs only for admin identities
(`spiffe://carrefour.local/admin/...`): Envoy refuses anyone else PERMISSION_DENIED, and each
service checks it again itself.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from google.api import annotations_pb2
from google.protobuf import descriptor, descriptor_pb2, descriptor_pool

from cbss.common.v1 import options_pb2

#: The contracts the edge knows (generated modules).
_PROTO_MODULES = (
    "cbss.registry.v1.registry_pb2",
    "cbss.dimona.v1.dimona_pb2",
    "cbss.dmfa.v1.dmfa_pb2",
    "cbss.drs.v1.drs_pb2",
    "cbss.inbox.v1.inbox_pb2",
    "cbss.mutation.v1.mutation_pb2",
    "cbss.mutuality.v1.mutuality_pb2",
    "cbss.router.v1.citizen_pb2",
    "cbss.router.v1.directory_pb2",
    "cbss.router.v1.message_log_pb2",
    "cbss.router.v1.meta_pb2",
    "cbss.router.v1.router_admin_pb2",
    "cbss.warehouse.v1.warehouse_pb2",
)

#: Upstream clusters: the router and the services that answer directly at the edge.
ROUTER = "router"

#: Service -> the cluster answering its ACCESS_DIRECT methods at the edge.
EXPOSED: dict[str, str] = {
    # Employers and their bureaus file declarations with the ONSS's services.
    "cbss.dimona.v1.DimonaService": "dimona",
    "cbss.dmfa.v1.DmfaService": "dmfa",
    "cbss.drs.v1.DrsService": "drs",
    # Institutions manage their part of the reference directory, read the message log about
    # their own messages and the network's meta-data, and choose their notifications.
    "cbss.router.v1.DirectoryService": ROUTER,
    "cbss.router.v1.MessageLogService": ROUTER,
    "cbss.router.v1.MetaService": ROUTER,
    "cbss.mutation.v1.SubscriptionService": "mutation",
    # Research centres read and export the warehouse's tables (any party its public ones).
    "cbss.warehouse.v1.WarehouseService": "warehouse",
    # Operators.
    "cbss.router.v1.RouterAdminService": ROUTER,
    "cbss.mutation.v1.MutationAdminService": "mutation",
    "cbss.warehouse.v1.WarehouseAdminService": "warehouse",
}

#: The declarations employers (and people acting for them at the portal) file and read.
DECLARATION_SERVICES = frozenset(
    {"cbss.dimona.v1.DimonaService", "cbss.dmfa.v1.DmfaService", "cbss.drs.v1.DrsService"}
)

#: Services reached only from the portal's browser listener (a person, never a certificate).
PORTAL_ONLY: dict[str, str] = {"cbss.router.v1.CitizenService": ROUTER}

#: Read-only services people also reach at the portal: the warehouse's published tables (the
#: charts; the warehouse lets anyone read a public project's tables, and nothing else).
PEOPLE_READS = frozenset({"cbss.warehouse.v1.WarehouseService"})

#: Services only admin identities reach through the edge.
ADMIN_ONLY = frozenset(
    {
        "cbss.router.v1.RouterAdminService",
        "cbss.mutation.v1.MutationAdminService",
        "cbss.warehouse.v1.WarehouseAdminService",
    }
)

_SAFE = (
    descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS,
    descriptor_pb2.MethodOptions.IDEMPOTENT,
)


@dataclass(frozen=True)
class Route:
    """One method's route at the edge."""

    path: str  # /package.Service/Method
    cluster: str
    idempotent: bool
    admin_only: bool
    #: Annotated `google.api.http`: reachable as REST/JSON.
    http: bool = False
    #: A consultation a person may make about themself (the `self_service` option).
    self_service: bool = False


def _services() -> list[descriptor.ServiceDescriptor]:
    pool = descriptor_pool.Default()
    services = []
    for name in _PROTO_MODULES:
        module = importlib.import_module(name)
        services += list(pool.FindFileByName(module.DESCRIPTOR.name).services_by_name.values())
    return services


def _routes(exposed: dict[str, str]) -> list[Route]:
    routes: list[Route] = []
    for service in _services():
        for method in service.methods:
            options = method.GetOptions()
            access = options.Extensions[options_pb2.access]
            if access == options_pb2.ACCESS_ROUTED:
                cluster = ROUTER
            elif access == options_pb2.ACCESS_DIRECT and service.full_name in exposed:
                cluster = exposed[service.full_name]
            else:
                continue
            routes.append(
                Route(
                    path=f"/{service.full_name}/{method.name}",
                    cluster=cluster,
                    idempotent=options.idempotency_level in _SAFE,
                    admin_only=service.full_name in ADMIN_ONLY,
                    http=options.HasExtension(annotations_pb2.http),
                    self_service=options.Extensions[options_pb2.self_service],
                )
            )
    return sorted(routes, key=lambda r: r.path)


def edge_routes() -> list[Route]:
    """Every method the edge routes for certificate holders, in a stable order."""
    return _routes(EXPOSED)


def portal_routes() -> list[Route]:
    """The methods a browser reaches through the portal listener (REST/JSON only)."""
    people = {
        **{s: EXPOSED[s] for s in DECLARATION_SERVICES | PEOPLE_READS},
        **PORTAL_ONLY,
    }
    return [r for r in _routes(people) if r.http and (r.self_service or _service(r) in people)]


def _service(route: Route) -> str:
    return route.path.split("/")[1]


def portal_transcoded_services() -> list[str]:
    """The services the portal listener's transcoder maps."""
    return sorted({_service(r) for r in portal_routes()})


def transcoded_services() -> list[str]:
    """The routed services with at least one method annotated `google.api.http`."""
    routed = {r.path.split("/")[1] for r in edge_routes()}
    return sorted(
        service.full_name
        for service in _services()
        if service.full_name in routed
        and any(m.GetOptions().HasExtension(annotations_pb2.http) for m in service.methods)
    )


def portal_api_prefixes() -> list[str]:
    """The first segments of the portal methods' REST paths (`/dimona/`, `/router/`, ...): the
    browser listener requires a token on them and answers 404 for what maps to no method."""
    wanted = {r.path for r in portal_routes()}
    prefixes = set()
    for service in _services():
        for method in service.methods:
            if f"/{service.full_name}/{method.name}" not in wanted:
                continue
            rule = method.GetOptions().Extensions[annotations_pb2.http]
            pattern = getattr(rule, rule.WhichOneof("pattern"))
            prefixes.add("/" + pattern.lstrip("/").split("/")[0] + "/")
    return sorted(prefixes)
