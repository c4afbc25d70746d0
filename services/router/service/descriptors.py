"""The descriptor catalog: what the router learns about a service's methods from its descriptors.

The router forwards raw request bytes and has no generated code for the services it routes. When
a service is registered, its file descriptors (fetched over server reflection, stored in the
router's database) are loaded here into a fresh `DescriptorPool`, and for every method the catalog
works out once, ahead of any call:

- which request fields hold the INSZ(s) the request is about (`cbss.common.v1.subject`);
- which request field gives the reference date (`cbss.common.v1.reference_date`, a
  `google.type.Date`);
- the read mask (a top-level `google.protobuf.FieldMask` field named `read_mask`);
- which response fields reveal INSZs (`cbss.common.v1.response_subject`);
- whether the method is streaming, whether it declares itself idempotent, and who may call it
  directly (`cbss.common.v1.access`: ACCESS_ROUTED or ACCESS_DIRECT);
- whether a person signed in at the portal may make it about themself
  (`cbss.common.v1.self_service`: the self-service rule of router.service.checks).

Per call, `MethodInfo.parse_request` / `subjects` / `reference_date` / `read_mask` /
`response_subjects` then only walk precomputed plans: no descriptor look-ups, no option parsing.

Rules, chosen to fail closed (a contract mistake refuses the registration instead of letting a
request through unchecked):

- Subject and response-subject fields are looked for in *every* message field of the request
  (response), at any depth, not only below message fields that are themselves marked: a contract
  that forgets to mark `declaration` in `declaration.workers[].insz` is still checked. Marking a
  message field is therefore redundant but allowed; a marked message field whose type holds no
  marked field is a `DescriptorError`, as is a mark on a field that is neither a string nor a
  message, on a map field or on a map holding marked fields, or on a recursive message type
  that holds marked fields (its paths would be unbounded).
- An empty string in a subject field (or an empty element of a repeated one) means "no subject
  given" and is not returned; the service itself refuses a missing required INSZ. Duplicates are
  kept, in request order: fields in declaration order, repeated elements in index order.
- At most one reference-date field per request, a singular `google.type.Date`, reached through
  singular message fields only. A present date must be a full, possible date: a partial date
  (month or day 0) or an impossible one (month 13) raises `InvalidReferenceDate`.
- Messages packed in `google.protobuf.Any` are opaque here: their fields are not inspected.

Nothing here logs, and no error message contains a field's value (INSZs are personal data).
"""

from __future__ import annotations

import datetime
import importlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import DecodeError, Message

__all__ = [
    "CatalogError",
    "DescriptorError",
    "FieldPath",
    "InvalidReferenceDate",
    "MessageDecodeError",
    "MethodInfo",
    "RequestDecodeError",
    "ResponseDecodeError",
    "ServiceCatalog",
    "Subject",
    "dependency_order",
]

#: Full names of the field options of protos/cbss/common/v1/options.proto (numbers 50001-50003).
SUBJECT_OPTION = "cbss.common.v1.subject"
RESPONSE_SUBJECT_OPTION = "cbss.common.v1.response_subject"
REFERENCE_DATE_OPTION = "cbss.common.v1.reference_date"
_OPTIONS = (SUBJECT_OPTION, RESPONSE_SUBJECT_OPTION, REFERENCE_DATE_OPTION)
#: The method option (an enum, number 50010) saying who may call a method directly.
ACCESS_OPTION = "cbss.common.v1.access"
#: The method option (a bool, number 50011) declaring a fan-out consultation.
FAN_OUT_OPTION = "cbss.common.v1.fan_out"
#: The method option (a bool, number 50012) opening a consultation to the person it is about.
SELF_SERVICE_OPTION = "cbss.common.v1.self_service"
ACCESS_UNSPECIFIED = "ACCESS_UNSPECIFIED"

DATE_TYPE = "google.type.Date"
FIELD_MASK_TYPE = "google.protobuf.FieldMask"
READ_MASK_FIELD = "read_mask"

#: Files that may be taken from this process's default pool when a service's set lacks them.
#: Limited to Google's shared packages: a missing `cbss/...` file must fail, not be papered over
#: with whatever version the router happens to have imported.
_WELL_KNOWN_FILE = re.compile(r"google/(?:protobuf|type|api|rpc)/[a-z0-9_/]+\.proto")

_IDEMPOTENT_LEVELS = frozenset(
    {descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS, descriptor_pb2.MethodOptions.IDEMPOTENT}
)


class CatalogError(Exception):
    """Base of every error raised by the descriptor catalog."""


class DescriptorError(CatalogError):
    """The descriptors are unusable: unparsable, inconsistent, incomplete or wrongly marked."""


class MessageDecodeError(CatalogError):
    """Bytes that are not a valid message of the method's type."""


class RequestDecodeError(MessageDecodeError):
    """A request's bytes are not a valid request message of the method."""


class ResponseDecodeError(MessageDecodeError):
    """A response's bytes are not a valid response message of the method."""


class InvalidReferenceDate(CatalogError):
    """The reference date is present but not a full, possible date."""

    def __init__(self, field: str) -> None:
        super().__init__(f"{field} must be a full, valid date")
        #: The request field, e.g. "reference_date" (for a BadRequest field violation).
        self.field = field


@dataclass(frozen=True, slots=True)
class Subject:
    """An INSZ a request is about, and where in the request it was found."""

    #: The field's value as sent (not validated here); kept out of repr so it is never logged.
    value: str = dataclass_field(repr=False)
    #: Where it was found: "insz", "inszs[3]", "persons[2].insz".
    field: str


@dataclass(frozen=True)
class FieldPath:
    """A chain of field descriptors from a method's request or response message."""

    fields: tuple[FieldDescriptor, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def repeated(self) -> bool:
        """True when any field on the path is repeated (the path can yield several values)."""
        return any(f.is_repeated for f in self.fields)

    def __str__(self) -> str:
        return ".".join(f.name + ("[]" if f.is_repeated else "") for f in self.fields)


# A plan is how to read the marked strings of a message type: one step per field to read, in
# declaration order. Steps are plain tuples (field name, kind, sub-plan) because they are walked on
# every call and tuple unpacking is the cheapest access Python has.
_LEAF, _LEAF_LIST, _NODE, _NODE_LIST = range(4)

# proto3 parsing rejects invalid UTF-8, but a proto2 string field keeps it and upb then hands out
# bytes: such a value is no INSZ, and letting bytes through would surprise every caller.
_NOT_UTF8 = "a marked string field is not valid UTF-8"
_Step = tuple[str, int, "tuple[_Step, ...]"]
_Plan = tuple[_Step, ...]


def _collect_subjects(message: Message, plan: _Plan, prefix: str, out: list[Subject]) -> None:
    for name, kind, sub in plan:
        value = getattr(message, name)
        if kind == _LEAF:
            if value:
                if value.__class__ is not str:
                    raise RequestDecodeError(_NOT_UTF8)
                out.append(Subject(value, prefix + name))
        elif kind == _NODE:
            if message.HasField(name):
                _collect_subjects(value, sub, f"{prefix}{name}.", out)
        elif kind == _LEAF_LIST:
            for index, item in enumerate(value):
                if item:
                    if item.__class__ is not str:
                        raise RequestDecodeError(_NOT_UTF8)
                    out.append(Subject(item, f"{prefix}{name}[{index}]"))
        else:
            for index, item in enumerate(value):
                _collect_subjects(item, sub, f"{prefix}{name}[{index}].", out)


def _collect_values(message: Message, plan: _Plan, out: list[str]) -> None:
    for name, kind, sub in plan:
        value = getattr(message, name)
        if kind == _LEAF:
            if value:
                if value.__class__ is not str:
                    raise ResponseDecodeError(_NOT_UTF8)
                out.append(value)
        elif kind == _NODE:
            if message.HasField(name):
                _collect_values(value, sub, out)
        elif kind == _LEAF_LIST:
            for item in value:
                if item:
                    if item.__class__ is not str:
                        raise ResponseDecodeError(_NOT_UTF8)
                    out.append(item)
        else:
            for item in value:
                _collect_values(item, sub, out)


@dataclass(frozen=True)
class MethodInfo:
    """One method of a service, with everything the router reads in its messages precomputed."""

    #: gRPC path, e.g. "/cbss.registry.v1.RegistryService/GetPerson".
    path: str
    #: Full service name, e.g. "cbss.registry.v1.RegistryService".
    service: str
    #: Method name, e.g. "GetPerson".
    name: str
    client_streaming: bool
    server_streaming: bool
    #: True when the method declares `idempotency_level` NO_SIDE_EFFECTS or IDEMPOTENT.
    idempotent: bool
    #: `cbss.common.v1.fan_out`: forwarded to every holder, replies streamed (server-streaming).
    fan_out: bool
    #: `cbss.common.v1.self_service`: a person signed in at the portal may make it about
    #: themself (router.service.checks applies the self-service rule instead of an
    #: institution's authorisation).
    self_service: bool
    #: The `cbss.common.v1.access` value name ("ACCESS_ROUTED", "ACCESS_DIRECT"), or
    #: "ACCESS_UNSPECIFIED" when the method does not declare one (or an unknown number).
    access: str
    #: Full names of the request and response message types.
    request_type: str
    response_type: str
    #: Every request field whose strings are subjects (declaration order).
    subject_paths: tuple[FieldPath, ...]
    #: The request field marked reference_date, if any.
    reference_date_path: FieldPath | None
    #: The top-level `read_mask` FieldMask field of the request, if any.
    read_mask_path: FieldPath | None
    #: Every response field whose strings are revealed INSZs (declaration order).
    response_subject_paths: tuple[FieldPath, ...]
    _request_class: type[Message] = dataclass_field(repr=False, compare=False)
    _response_class: type[Message] = dataclass_field(repr=False, compare=False)
    _subject_plan: _Plan = dataclass_field(repr=False, compare=False)
    _response_plan: _Plan = dataclass_field(repr=False, compare=False)

    def parse_request(self, data: bytes) -> Message:
        """The request message in `data`; `RequestDecodeError` when the bytes are not one."""
        try:
            return self._request_class.FromString(data)
        except DecodeError:
            raise RequestDecodeError(f"not a valid {self.request_type}") from None

    def parse_response(self, data: bytes) -> Message:
        """The response message in `data`; `ResponseDecodeError` when the bytes are not one."""
        try:
            return self._response_class.FromString(data)
        except DecodeError:
            raise ResponseDecodeError(f"not a valid {self.response_type}") from None

    def subjects(self, request: Message) -> list[Subject]:
        """The non-empty subject values of a parsed request, in request order."""
        out: list[Subject] = []
        if self._subject_plan:
            _collect_subjects(request, self._subject_plan, "", out)
        return out

    def reference_date(self, request: Message) -> datetime.date | None:
        """The reference date of a parsed request; None when the field is absent.

        Raises `InvalidReferenceDate` for a present date that is partial (month or day 0), empty
        or impossible: a reference date names one day.
        """
        path = self.reference_date_path
        if path is None:
            return None
        message = request
        for name in path.names:
            if not message.HasField(name):
                return None
            message = getattr(message, name)
        try:
            return datetime.date(message.year, message.month, message.day)
        except ValueError:
            raise InvalidReferenceDate(".".join(path.names)) from None

    def read_mask(self, request: Message) -> tuple[str, ...] | None:
        """The read mask's paths; None when the method has none or the request leaves it unset.

        A set but empty mask gives `()`, which a service may refuse (registry: READ_MASK_REQUIRED).
        """
        if self.read_mask_path is None or not request.HasField(READ_MASK_FIELD):
            return None
        return tuple(getattr(request, READ_MASK_FIELD).paths)

    def response_subjects(self, data: bytes) -> list[str]:
        """Every non-empty INSZ revealed by one response message (one message of a stream)."""
        message = self.parse_response(data)
        out: list[str] = []
        if self._response_plan:
            _collect_values(message, self._response_plan, out)
        return out


class ServiceCatalog:
    """The methods of the services defined in one set of file descriptors."""

    def __init__(
        self,
        files: tuple[bytes, ...],
        services: dict[str, tuple[MethodInfo, ...]],
    ) -> None:
        #: The serialized files the catalog was built from (first copy of each, as given), in
        #: dependency order, plus the well-known files taken from the default pool: enough to
        #: rebuild it anywhere.
        self.files = files
        self._services = services
        self._methods = {m.path: m for methods in services.values() for m in methods}

    @classmethod
    def from_files(cls, files: Sequence[bytes]) -> ServiceCatalog:
        """Build the catalog from serialized `FileDescriptorProto`s, in any order.

        Duplicates are ignored; missing well-known dependencies (google/protobuf, google/type,
        google/api, google/rpc) are taken from this process's default pool. Raises
        `DescriptorError` on unparsable or conflicting files, a missing dependency, an import
        cycle, or misplaced options.
        """
        protos = _parse_files(files)
        _add_well_known(protos)
        ordered = [protos[name] for name in _dependency_names(protos)]
        pool = descriptor_pool.DescriptorPool()
        for proto, data in ordered:
            try:
                pool.AddSerializedFile(data)
            except Exception as exc:  # upb reports bad files as TypeError, others as they come
                raise DescriptorError(f"{proto.name} cannot be loaded: {exc}") from exc
        marks = _Marks(pool)
        services: dict[str, tuple[MethodInfo, ...]] = {}
        try:
            for proto, _ in ordered:
                file = pool.FindFileByName(proto.name)
                for service in file.services_by_name.values():
                    services[service.full_name] = tuple(
                        _method_info(method, marks) for method in service.methods
                    )
        except RecursionError:
            raise DescriptorError("message types nest too deeply") from None
        return cls(tuple(data for _, data in ordered), dict(sorted(services.items())))

    def services(self) -> list[str]:
        """Full names of the services defined in the files, sorted."""
        return list(self._services)

    def methods(self, service: str) -> list[MethodInfo]:
        """The methods of a service in declaration order; KeyError for an unknown service."""
        try:
            return list(self._services[service])
        except KeyError:
            raise KeyError(f"unknown service {service}") from None

    def method(self, path: str) -> MethodInfo | None:
        """The method at a gRPC path ("/pkg.Service/Method"), or None."""
        return self._methods.get(path)


def dependency_order(files: Sequence[bytes]) -> list[bytes]:
    """Serialized files deduplicated and sorted so that every file follows its dependencies.

    Dependencies absent from `files` are ignored (the caller decides whether that is fatal);
    conflicting versions of one file and import cycles raise `DescriptorError`. The relative
    order of independent files is kept, and each file's bytes are returned as given.
    """
    protos = _parse_files(files)
    return [protos[name][1] for name in _dependency_names(protos)]


#: A file as parsed (without source info, for comparisons) and its bytes as given.
_File = tuple[descriptor_pb2.FileDescriptorProto, bytes]


def _parse_files(files: Iterable[bytes]) -> dict[str, _File]:
    protos: dict[str, _File] = {}
    for position, data in enumerate(files):
        try:
            proto = descriptor_pb2.FileDescriptorProto.FromString(data)
        except DecodeError:
            raise DescriptorError(f"file #{position} is not a FileDescriptorProto") from None
        if not proto.name:
            raise DescriptorError(f"file #{position} has no name")
        # Source info (comments) does not change the schema: two copies differing only in it are
        # the same file.
        proto.ClearField("source_code_info")
        known = protos.get(proto.name)
        if known is None:
            protos[proto.name] = (proto, data)
        elif known[0] != proto:
            raise DescriptorError(f"{proto.name} is given twice with different content")
    return protos


def _add_well_known(protos: dict[str, _File]) -> None:
    pending = [dep for proto, _ in protos.values() for dep in proto.dependency]
    while pending:
        name = pending.pop()
        if name in protos:
            continue
        proto = _well_known_file(name)
        if proto is None:
            raise DescriptorError(f"dependency {name} is missing")
        protos[name] = (proto, proto.SerializeToString())
        pending.extend(proto.dependency)


def _well_known_file(name: str) -> descriptor_pb2.FileDescriptorProto | None:
    if not _WELL_KNOWN_FILE.fullmatch(name):
        return None
    pool = descriptor_pool.Default()
    try:
        file = pool.FindFileByName(name)
    except KeyError:
        # The default pool only holds files whose generated module was imported. The name is
        # confined by the pattern above to google.{protobuf,type,api,rpc}.*_pb2 modules.
        try:
            importlib.import_module(name.removesuffix(".proto").replace("/", ".") + "_pb2")
            file = pool.FindFileByName(name)
        except (ImportError, KeyError):
            return None
    proto = descriptor_pb2.FileDescriptorProto()
    file.CopyToProto(proto)
    return proto


def _dependency_names(protos: dict[str, _File]) -> list[str]:
    # Iterative depth-first search: a hostile file set cannot exhaust the Python stack.
    done: set[str] = set()
    order: list[str] = []
    for root in protos:
        if root in done:
            continue
        visiting = {root}
        stack = [(root, iter(protos[root][0].dependency))]
        while stack:
            name, deps = stack[-1]
            for dep in deps:
                if dep in visiting:
                    raise DescriptorError(f"import cycle through {dep}")
                if dep in protos and dep not in done:
                    visiting.add(dep)
                    stack.append((dep, iter(protos[dep][0].dependency)))
                    break
            else:
                stack.pop()
                visiting.discard(name)
                done.add(name)
                order.append(name)
    return order


def _extension(
    pool: descriptor_pool.DescriptorPool, name: str, extendee: str, kind: int
) -> FieldDescriptor | None:
    try:
        extension = pool.FindExtensionByName(name)
    except KeyError:
        return None  # the files never import options.proto: nothing is marked
    if (
        extension.containing_type.full_name != extendee
        or extension.type != kind
        or extension.is_repeated
    ):
        raise DescriptorError(f"{name} is not the option Carrefour defines")
    return extension


def _options_class(pool: descriptor_pool.DescriptorPool, name: str) -> type[Message]:
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(name))


class _Marks:
    """Reads the Carrefour options of the fields and methods of one pool, each field once.

    The options objects that descriptors hand out belong to the default pool, which does not
    know this pool's extensions (reading one raises KeyError): they are re-parsed with this
    pool's own options classes, which do.
    """

    def __init__(self, pool: descriptor_pool.DescriptorPool) -> None:
        field_options, method_options = (
            "google.protobuf.FieldOptions",
            "google.protobuf.MethodOptions",
        )
        self._extensions = {}
        for name in _OPTIONS:
            extension = _extension(pool, name, field_options, FieldDescriptor.TYPE_BOOL)
            if extension is not None:
                self._extensions[name] = extension
        self._options_class: type[Message] | None = None
        if self._extensions:
            self._options_class = _options_class(pool, field_options)
        self._access = _extension(pool, ACCESS_OPTION, method_options, FieldDescriptor.TYPE_ENUM)
        self._fan_out = _extension(pool, FAN_OUT_OPTION, method_options, FieldDescriptor.TYPE_BOOL)
        self._self_service = _extension(
            pool, SELF_SERVICE_OPTION, method_options, FieldDescriptor.TYPE_BOOL
        )
        self._method_options_class: type[Message] | None = None
        if any(e is not None for e in (self._access, self._fan_out, self._self_service)):
            self._method_options_class = _options_class(pool, method_options)
        self._cache: dict[str, frozenset[str]] = {}

    def fan_out(self, method: MethodDescriptor) -> bool:
        """Whether the method declares fan-out."""
        return self._flag(method, self._fan_out)

    def self_service(self, method: MethodDescriptor) -> bool:
        """Whether the method declares itself open to the person it is about."""
        return self._flag(method, self._self_service)

    def _flag(self, method: MethodDescriptor, extension: FieldDescriptor | None) -> bool:
        if extension is None or self._method_options_class is None or not method.has_options:
            return False
        options = self._method_options_class.FromString(method.GetOptions().SerializeToString())
        return bool(options.Extensions[extension])

    def access(self, method: MethodDescriptor) -> str:
        """The name of the method's access value, ACCESS_UNSPECIFIED when it has none."""
        if self._access is None or self._method_options_class is None or not method.has_options:
            return ACCESS_UNSPECIFIED
        options = self._method_options_class.FromString(method.GetOptions().SerializeToString())
        value = self._access.enum_type.values_by_number.get(options.Extensions[self._access])
        return value.name if value is not None else ACCESS_UNSPECIFIED

    def of(self, field: FieldDescriptor) -> frozenset[str]:
        """Names of the options set to true on `field`."""
        found = self._cache.get(field.full_name)
        if found is None:
            found = frozenset()
            if self._options_class is not None and field.has_options:
                options = self._options_class.FromString(field.GetOptions().SerializeToString())
                found = frozenset(
                    name for name, ext in self._extensions.items() if options.Extensions[ext]
                )
            self._cache[field.full_name] = found
        return found


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _reachable(root: Descriptor) -> list[Descriptor]:
    seen = {root.full_name: root}
    pending = [root]
    while pending:
        for field in pending.pop().fields:
            sub = field.message_type
            if sub is not None and sub.full_name not in seen:
                seen[sub.full_name] = sub
                pending.append(sub)
    return list(seen.values())


def _marked_paths(
    root: Descriptor,
    option: str,
    marks: _Marks,
    is_leaf: Callable[[FieldDescriptor], bool],
) -> list[tuple[FieldDescriptor, ...]]:
    """Paths from `root` to every field marked `option` that `is_leaf` accepts.

    Descends into every message field whose type holds (at any depth) a marked field. `is_leaf`
    returns True for a marked field to report, False for a marked message field to descend into,
    and raises DescriptorError for a marked field of the wrong kind.
    """

    def marked(field: FieldDescriptor) -> bool:
        return option in marks.of(field)

    # The types that hold a marked field at any depth: a fixpoint, as types may be recursive.
    types = _reachable(root)
    holding: set[str] = set()
    changed = True
    while changed:
        changed = False
        for message in types:
            if message.full_name not in holding and any(
                marked(f) or (f.message_type is not None and f.message_type.full_name in holding)
                for f in message.fields
            ):
                holding.add(message.full_name)
                changed = True

    paths: list[tuple[FieldDescriptor, ...]] = []

    def visit(message: Descriptor, prefix: tuple[FieldDescriptor, ...], seen: set[str]) -> None:
        for field in message.fields:
            if marked(field) and is_leaf(field):
                paths.append((*prefix, field))
                continue
            sub = field.message_type
            if sub is None or sub.full_name not in holding:
                if marked(field):
                    raise DescriptorError(
                        f"{field.full_name} is marked {option} but its type holds no such field"
                    )
                continue
            if _is_map(field):
                raise DescriptorError(f"{field.full_name}: a map cannot hold {option} fields")
            if sub.full_name in seen:
                raise DescriptorError(
                    f"{sub.full_name} is recursive and holds {option} fields: unsupported"
                )
            visit(sub, (*prefix, field), seen | {sub.full_name})

    if root.full_name in holding:
        visit(root, (), {root.full_name})
    return paths


def _string_leaf(option: str) -> Callable[[FieldDescriptor], bool]:
    def is_leaf(field: FieldDescriptor) -> bool:
        if _is_map(field):
            raise DescriptorError(f"{field.full_name}: {option} cannot mark a map")
        if field.type == FieldDescriptor.TYPE_STRING:
            return True
        if field.message_type is not None:
            return False
        raise DescriptorError(f"{field.full_name}: {option} must mark a string or message field")

    return is_leaf


def _date_leaf(field: FieldDescriptor) -> bool:
    if field.message_type is None or field.message_type.full_name != DATE_TYPE:
        raise DescriptorError(f"{field.full_name}: reference_date must mark a {DATE_TYPE}")
    if field.is_repeated:
        raise DescriptorError(f"{field.full_name}: reference_date cannot be repeated")
    return True


def _plan(paths: Sequence[tuple[FieldDescriptor, ...]]) -> _Plan:
    """The paths as a tree of steps, one per field, first-seen order kept."""
    groups: dict[str, tuple[FieldDescriptor, list[tuple[FieldDescriptor, ...]]]] = {}
    for path in paths:
        head, rest = path[0], path[1:]
        groups.setdefault(head.name, (head, []))[1].append(rest)
    steps: list[_Step] = []
    for name, (field, rests) in groups.items():
        if field.message_type is None:  # a string leaf: it has no sub-paths
            steps.append((name, _LEAF_LIST if field.is_repeated else _LEAF, ()))
        else:
            kind = _NODE_LIST if field.is_repeated else _NODE
            steps.append((name, kind, _plan(rests)))
    return tuple(steps)


def _method_info(method: MethodDescriptor, marks: _Marks) -> MethodInfo:
    request, response = method.input_type, method.output_type
    service = method.containing_service.full_name

    subject_paths = _marked_paths(request, SUBJECT_OPTION, marks, _string_leaf(SUBJECT_OPTION))
    response_paths = _marked_paths(
        response, RESPONSE_SUBJECT_OPTION, marks, _string_leaf(RESPONSE_SUBJECT_OPTION)
    )
    date_paths = _marked_paths(request, REFERENCE_DATE_OPTION, marks, _date_leaf)
    if len(date_paths) > 1:
        raise DescriptorError(f"{request.full_name} has several reference_date fields")
    if date_paths and any(f.is_repeated for f in date_paths[0]):
        raise DescriptorError(f"{request.full_name}: reference_date is inside a repeated field")

    read_mask = request.fields_by_name.get(READ_MASK_FIELD)
    if (
        read_mask is None
        or read_mask.is_repeated
        or read_mask.message_type is None
        or read_mask.message_type.full_name != FIELD_MASK_TYPE
    ):
        read_mask = None

    level = method.GetOptions().idempotency_level
    return MethodInfo(
        path=f"/{service}/{method.name}",
        service=service,
        name=method.name,
        client_streaming=method.client_streaming,
        server_streaming=method.server_streaming,
        idempotent=level in _IDEMPOTENT_LEVELS,
        access=marks.access(method),
        fan_out=marks.fan_out(method) and method.server_streaming,
        self_service=marks.self_service(method),
        request_type=request.full_name,
        response_type=response.full_name,
        subject_paths=tuple(FieldPath(p) for p in subject_paths),
        reference_date_path=FieldPath(date_paths[0]) if date_paths else None,
        read_mask_path=FieldPath((read_mask,)) if read_mask is not None else None,
        response_subject_paths=tuple(FieldPath(p) for p in response_paths),
        _request_class=message_factory.GetMessageClass(request),
        _response_class=message_factory.GetMessageClass(response),
        _subject_plan=_plan(subject_paths),
        _response_plan=_plan(response_paths),
    )
