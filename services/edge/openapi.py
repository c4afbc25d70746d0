"""The OpenAPI document of the edge's REST/JSON, generated from the contracts' descriptor set.

`python -m edge.openapi [--descriptors gen/carrefour.binpb] [--out gen/openapi.json]` (run by
`make proto`) reads the same descriptor set Envoy's transcoder reads, so the document cannot
drift from what the edge answers: one operation per method annotated `google.api.http` that the
edge routes (edge.routes), its path and query parameters, its request body and its response as
JSON Schemas of the messages (proto field names, enums by name, 64-bit integers as strings: the
proto3 JSON mapping the transcoder prints), the comments of the contracts as descriptions. The
portal process serves it at `/openapi.json`.

Two ways in (`security`): a person at the portal listener with a bearer token (the identity
provider's JWT), or an institution or employer with its certificate (OpenAPI's `mutualTLS`) at
the certificate listener. `x-carrefour-listeners` says which listener serves each operation.

Path templates: `{name=employers/*/periods/*}` has no OpenAPI equivalent (a parameter never holds
a slash), so each `*` becomes a parameter of its own named after the collection before it
(`/employers/{employer}/periods/{period}`); the transcoder rebuilds `name` from the path.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2

from edge.routes import edge_routes, portal_routes

_REPO = Path(__file__).resolve().parents[2]
DESCRIPTORS = _REPO / "gen" / "carrefour.binpb"
OUTPUT = _REPO / "gen" / "openapi.json"

_F = descriptor_pb2.FieldDescriptorProto
_SCALARS: dict[int, dict[str, Any]] = {
    _F.TYPE_STRING: {"type": "string"},
    _F.TYPE_BOOL: {"type": "boolean"},
    _F.TYPE_INT32: {"type": "integer", "format": "int32"},
    _F.TYPE_SINT32: {"type": "integer", "format": "int32"},
    _F.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    _F.TYPE_UINT32: {"type": "integer", "format": "int64", "minimum": 0},
    _F.TYPE_FIXED32: {"type": "integer", "format": "int64", "minimum": 0},
    # The proto3 JSON mapping prints 64-bit integers as strings.
    _F.TYPE_INT64: {"type": "string", "format": "int64"},
    _F.TYPE_SINT64: {"type": "string", "format": "int64"},
    _F.TYPE_SFIXED64: {"type": "string", "format": "int64"},
    _F.TYPE_UINT64: {"type": "string", "format": "uint64"},
    _F.TYPE_FIXED64: {"type": "string", "format": "uint64"},
    _F.TYPE_DOUBLE: {"type": "number", "format": "double"},
    _F.TYPE_FLOAT: {"type": "number", "format": "float"},
    _F.TYPE_BYTES: {"type": "string", "format": "byte"},
}
#: Well-known types with a JSON form of their own.
_WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?\d+(\.\d+)?s$"},
    "google.protobuf.FieldMask": {
        "type": "string",
        "description": "Field paths, comma-separated (e.g. `identity,address`).",
    },
    "google.protobuf.Empty": {"type": "object"},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "additionalProperties": True,
    },
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
}
_VARIABLE = re.compile(r"\{([a-z_][a-z0-9_.]*)(?:=([^}]*))?\}")


class _Descriptors:
    """Messages, enums and comments of a FileDescriptorSet, by full name."""

    def __init__(self, fds: descriptor_pb2.FileDescriptorSet) -> None:
        self.messages: dict[str, descriptor_pb2.DescriptorProto] = {}
        self.enums: dict[str, descriptor_pb2.EnumDescriptorProto] = {}
        self.methods: dict[str, tuple[descriptor_pb2.MethodDescriptorProto, str]] = {}
        self.comments: dict[str, str] = {}
        for file in fds.file:
            self._file(file)

    def _file(self, file: descriptor_pb2.FileDescriptorProto) -> None:
        prefix = f".{file.package}" if file.package else ""
        paths: dict[tuple[int, ...], str] = {
            tuple(loc.path): loc.leading_comments.strip()
            for loc in file.source_code_info.location
            if loc.leading_comments.strip()
        }

        def message(msg: descriptor_pb2.DescriptorProto, scope: str, path: tuple[int, ...]) -> None:
            name = f"{scope}.{msg.name}"
            self.messages[name] = msg
            self.comments[name] = paths.get(path, "")
            for i, field in enumerate(msg.field):
                self.comments[f"{name}.{field.name}"] = paths.get((*path, 2, i), "")
            for i, nested in enumerate(msg.nested_type):
                message(nested, name, (*path, 3, i))
            for i, enum in enumerate(msg.enum_type):
                self.enums[f"{name}.{enum.name}"] = enum
                self.comments[f"{name}.{enum.name}"] = paths.get((*path, 4, i), "")

        for i, msg in enumerate(file.message_type):
            message(msg, prefix, (4, i))
        for i, enum in enumerate(file.enum_type):
            self.enums[f"{prefix}.{enum.name}"] = enum
            self.comments[f"{prefix}.{enum.name}"] = paths.get((5, i), "")
        for s, service in enumerate(file.service):
            for m, method in enumerate(service.method):
                path = f"/{file.package}.{service.name}/{method.name}"
                self.methods[path] = (method, service.name)
                self.comments[path] = paths.get((6, s, 2, m), "")


def _component(full_name: str) -> str:
    return full_name.lstrip(".")


class _Builder:
    def __init__(self, d: _Descriptors) -> None:
        self.d = d
        self.schemas: dict[str, Any] = {}

    def ref(self, type_name: str) -> dict[str, Any]:
        """A $ref to the message or enum `type_name` (".pkg.Msg"), defining it once."""
        name = _component(type_name)
        if name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[name])
        if name not in self.schemas:
            self.schemas[name] = {}  # placeholder: recursive messages
            if type_name in self.d.enums:
                self.schemas[name] = self._enum(type_name)
            else:
                self.schemas[name] = self._message(type_name)
        return {"$ref": f"#/components/schemas/{name}"}

    def _enum(self, type_name: str) -> dict[str, Any]:
        enum = self.d.enums[type_name]
        return _described(
            {"type": "string", "enum": [v.name for v in enum.value]},
            self.d.comments.get(type_name, ""),
        )

    def _message(self, type_name: str, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
        msg = self.d.messages[type_name]
        properties = {
            field.name: _described(
                self.field(field), self.d.comments.get(f"{type_name}.{field.name}", "")
            )
            for field in msg.field
            if field.name not in skip
        }
        return _described(
            {"type": "object", "properties": properties, "additionalProperties": False},
            self.d.comments.get(type_name, ""),
        )

    def body(self, type_name: str, skip: frozenset[str]) -> dict[str, Any]:
        """The request body: the message without the fields bound to the path."""
        if not skip:
            return self.ref(type_name)
        return self._message(type_name, skip)

    def field(self, field: descriptor_pb2.FieldDescriptorProto) -> dict[str, Any]:
        if field.type in (_F.TYPE_MESSAGE, _F.TYPE_GROUP):
            entry = self.d.messages.get(field.type_name)
            if entry is not None and entry.options.map_entry:
                value = next(f for f in entry.field if f.name == "value")
                return {"type": "object", "additionalProperties": self.field(value)}
            schema = self.ref(field.type_name)
        elif field.type == _F.TYPE_ENUM:
            schema = self.ref(field.type_name)
        else:
            schema = dict(_SCALARS[field.type])
        if field.label == _F.LABEL_REPEATED:
            return {"type": "array", "items": schema}
        return schema


def _described(schema: dict[str, Any], comment: str) -> dict[str, Any]:
    if comment and "$ref" not in schema:
        schema["description"] = comment
    elif comment:
        # OpenAPI 3.1: a $ref may carry a description beside it.
        schema = {**schema, "description": comment}
    return schema


def _http_rule(method: descriptor_pb2.MethodDescriptorProto) -> http_pb2.HttpRule | None:
    options = descriptor_pb2.MethodOptions()
    options.ParseFromString(method.options.SerializeToString())
    if not options.HasExtension(annotations_pb2.http):
        return None
    return options.Extensions[annotations_pb2.http]


def _openapi_path(template: str) -> tuple[str, list[tuple[str, str]], set[str]]:
    """`/v1/{name=employers/*/periods/*}` -> (`/v1/employers/{employer}/periods/{period}`,
    [(parameter, the field it fills)], {top-level fields bound by the path})."""
    params: list[tuple[str, str]] = []
    bound: set[str] = set()

    def expand(match: re.Match[str]) -> str:
        field, pattern = match.group(1), match.group(2)
        bound.add(field.split(".")[0])
        if pattern is None or pattern == "*":
            params.append((field, field))
            return "{" + field + "}"
        out = []
        previous = ""
        for segment in pattern.split("/"):
            if segment == "*":
                name = re.sub(r"s$", "", previous) or field
                params.append((name, field))
                out.append("{" + name + "}")
            else:
                out.append(segment)
            previous = segment
        return "/".join(out)

    return _VARIABLE.sub(expand, template), params, bound


def _query_parameters(
    b: _Builder, type_name: str, bound: set[str], prefix: str = "", depth: int = 0
) -> list[dict[str, Any]]:
    """The fields of a GET request not bound by the path, as query parameters (nested messages
    as `field.sub`, one level deep, like `risk_date.year`)."""
    out: list[dict[str, Any]] = []
    for field in b.d.messages[type_name].field:
        if not prefix and field.name in bound:
            continue
        name = f"{prefix}{field.name}"
        comment = b.d.comments.get(f"{type_name}.{field.name}", "")
        if field.type == _F.TYPE_MESSAGE and _component(field.type_name) not in _WELL_KNOWN:
            if depth < 1:
                out += _query_parameters(b, field.type_name, bound, f"{name}.", depth + 1)
            continue
        schema = b.field(field)
        out.append(
            _described({"name": name, "in": "query", "required": False, "schema": schema}, comment)
        )
    return out


def build(fds: descriptor_pb2.FileDescriptorSet) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every REST/JSON method the edge serves."""
    d = _Descriptors(fds)
    b = _Builder(d)
    listeners: dict[str, list[str]] = {}
    for route in edge_routes():
        listeners.setdefault(route.path, []).append("certificate")
    for route in portal_routes():
        listeners.setdefault(route.path, []).append("portal")
    paths: dict[str, dict[str, Any]] = {}
    status = b.ref(".google.rpc.Status")
    for grpc_path in sorted(listeners):
        method, service = d.methods[grpc_path]
        rule = _http_rule(method)
        if rule is None:
            continue
        verb = rule.WhichOneof("pattern")
        if verb == "custom" or verb is None:
            continue
        path, params, bound = _openapi_path(getattr(rule, verb))
        ways = listeners[grpc_path]
        operation: dict[str, Any] = {
            "operationId": grpc_path.lstrip("/").replace("/", "."),
            "tags": [grpc_path.split("/")[1]],
            "description": d.comments.get(grpc_path, ""),
            "parameters": [
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                    "description": f"Part of `{field}`.",
                }
                for name, field in params
            ],
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": b.ref(method.output_type)}},
                },
                "default": {
                    "description": "A gRPC error as JSON (google.rpc.Status); `details` holds "
                    "the ErrorInfo with the machine-readable `reason`.",
                    "content": {"application/json": {"schema": status}},
                },
            },
            "security": [
                *([{"portalToken": []}] if "portal" in ways else []),
                *([{"clientCertificate": []}] if "certificate" in ways else []),
            ],
            "x-carrefour-listeners": ways,
            "x-grpc-method": grpc_path,
        }
        if rule.body:
            body = (
                b.body(method.input_type, frozenset(bound))
                if rule.body == "*"
                else b.field(
                    next(f for f in d.messages[method.input_type].field if f.name == rule.body)
                )
            )
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": body}},
            }
        else:
            operation["parameters"] += _query_parameters(b, method.input_type, bound)
        paths.setdefault(path, {})[verb] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Carrefour REST/JSON",
            "version": "1",
            "description": (
                "The REST/JSON face of Carrefour's gRPC contracts, transcoded by the edge "
                "(Envoy). Generated from the descriptor set by `python -m edge.openapi`."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(b.schemas.items())),
            "securitySchemes": {
                "portalToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "The identity provider's token (RS256), at the portal listener.",
                },
                "clientCertificate": {
                    "type": "mutualTLS",
                    "description": "A certificate of the mesh's PKI, at the certificate listener.",
                },
            },
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m edge.openapi", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--descriptors", type=Path, default=DESCRIPTORS)
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    fds = descriptor_pb2.FileDescriptorSet.FromString(args.descriptors.read_bytes())
    document = build(fds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.write(f"{args.out}: {len(document['paths'])} paths\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
