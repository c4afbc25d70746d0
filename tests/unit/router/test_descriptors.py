"""The router's descriptor catalog, on descriptor sets built here and on the real contracts.

The test files are built as `FileDescriptorProto`s, with the Carrefour options encoded as raw
field-option bytes: the catalog must work for services the router has no generated code for.
"""

from __future__ import annotations

import datetime
import timeit
from collections.abc import Iterable, Sequence

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message
from google.type import date_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from router.service.descriptors import (
    DescriptorError,
    InvalidReferenceDate,
    MethodInfo,
    RequestDecodeError,
    ResponseDecodeError,
    ServiceCatalog,
    Subject,
    dependency_order,
)

FDP = descriptor_pb2.FieldDescriptorProto
STRING, INT32, BYTES, MESSAGE = FDP.TYPE_STRING, FDP.TYPE_INT32, FDP.TYPE_BYTES, FDP.TYPE_MESSAGE
OPTIONS_FILE = "cbss/common/v1/options.proto"
MARKS = {"subject": 50001, "response_subject": 50002, "reference_date": 50003}

# Builders ---------------------------------------------------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(
    name: str,
    number: int,
    kind: int = STRING,
    *,
    repeated: bool = False,
    type_name: str = "",
    marks: Iterable[str] = (),
) -> FDP:
    """A field; `marks` are Carrefour option names, encoded as raw option bytes (bool true)."""
    proto = FDP(
        name=name,
        number=number,
        type=kind,
        label=FDP.LABEL_REPEATED if repeated else FDP.LABEL_OPTIONAL,
        json_name=name,
    )
    if type_name:
        proto.type_name = type_name
    raw = b"".join(_varint(MARKS[m] << 3) + b"\x01" for m in marks)
    if raw:
        proto.options.MergeFromString(raw)
    return proto


def message(name: str, *fields: FDP) -> descriptor_pb2.DescriptorProto:
    return descriptor_pb2.DescriptorProto(name=name, field=list(fields))


def method(
    name: str,
    request: str,
    response: str,
    *,
    client_streaming: bool = False,
    server_streaming: bool = False,
    idempotency: int = 0,
    access: int = 0,
) -> descriptor_pb2.MethodDescriptorProto:
    proto = descriptor_pb2.MethodDescriptorProto(
        name=name,
        input_type=request,
        output_type=response,
        client_streaming=client_streaming,
        server_streaming=server_streaming,
    )
    if idempotency:
        proto.options.idempotency_level = idempotency
    if access:  # cbss.common.v1.access (50010), raw like the field marks
        proto.options.MergeFromString(_varint(50010 << 3) + _varint(access))
    return proto


def proto_file(
    name: str,
    package: str,
    messages: Sequence[descriptor_pb2.DescriptorProto] = (),
    methods: Sequence[descriptor_pb2.MethodDescriptorProto] = (),
    deps: Sequence[str] = (),
    syntax: str = "proto3",
) -> bytes:
    proto = descriptor_pb2.FileDescriptorProto(
        name=name, package=package, dependency=list(deps), syntax=syntax
    )
    proto.message_type.extend(messages)
    if methods:
        proto.service.add(name="TestService", method=list(methods))
    return proto.SerializeToString()


def options_file() -> bytes:
    """cbss/common/v1/options.proto, written out by hand as a provider would serve it."""
    proto = descriptor_pb2.FileDescriptorProto(
        name=OPTIONS_FILE,
        package="cbss.common.v1",
        dependency=["google/protobuf/descriptor.proto"],
        syntax="proto3",
    )
    for name, number in MARKS.items():
        proto.extension.add(
            name=name,
            number=number,
            type=FDP.TYPE_BOOL,
            label=FDP.LABEL_OPTIONAL,
            extendee=".google.protobuf.FieldOptions",
            json_name=name,
        )
    access = proto.enum_type.add(name="Access")
    for number, value in enumerate(["ACCESS_UNSPECIFIED", "ACCESS_ROUTED", "ACCESS_DIRECT"]):
        access.value.add(name=value, number=number)
    proto.extension.add(
        name="access",
        number=50010,
        type=FDP.TYPE_ENUM,
        type_name=".cbss.common.v1.Access",
        label=FDP.LABEL_OPTIONAL,
        extendee=".google.protobuf.MethodOptions",
        json_name="access",
    )
    return proto.SerializeToString()


def copy_of(file: object) -> bytes:
    proto = descriptor_pb2.FileDescriptorProto()
    file.CopyToProto(proto)  # type: ignore[attr-defined]
    return proto.SerializeToString()


def with_closure(file: object) -> list[bytes]:
    """A generated file and its transitive dependencies, dependencies first."""
    out: list[bytes] = []
    seen: set[str] = set()

    def visit(f: object) -> None:
        for dep in f.dependencies:  # type: ignore[attr-defined]
            if dep.name not in seen:
                visit(dep)
        seen.add(f.name)  # type: ignore[attr-defined]
        out.append(copy_of(f))

    visit(file)
    return out


DESCRIPTOR_FILE = copy_of(descriptor_pb2.DESCRIPTOR)
DATE_FILE = copy_of(date_pb2.DESCRIPTOR)

# The test contract ------------------------------------------------------------------------------

P = ".test.v1."
DATE = ".google.type.Date"
MASK = ".google.protobuf.FieldMask"
TEST_MESSAGES = [
    message(
        "GetRequest",
        field("insz", 1, marks=["subject"]),
        field("read_mask", 2, MESSAGE, type_name=MASK),
        field("reference_date", 3, MESSAGE, type_name=DATE, marks=["reference_date"]),
    ),
    message("GetResponse", field("person", 1, MESSAGE, type_name=P + "Person")),
    message(
        "Person",
        field("insz", 1, marks=["response_subject"]),
        field("status", 2, MESSAGE, type_name=P + "Status"),
        field("name", 3),
    ),
    message(
        "Status",
        field("replaced_by", 1, marks=["response_subject"]),
        field("replaces", 2, repeated=True, marks=["response_subject"]),
    ),
    message("ManyRequest", field("inszs", 1, repeated=True, marks=["subject"])),
    message(
        "SearchResponse",
        field("persons", 1, MESSAGE, repeated=True, type_name=P + "Person"),
        field("next_page_token", 2),
    ),
    message(
        "Pair",
        field("insz", 1, marks=["subject"]),
        field("partner_insz", 2, marks=["subject"]),
        field("note", 3),
    ),
    message(
        "NestedRequest",
        field("pair", 1, MESSAGE, type_name=P + "Pair", marks=["subject"]),
        field("pairs", 2, MESSAGE, repeated=True, type_name=P + "Pair"),
        field("request_id", 3),
    ),
    message(
        "TwoRequest",
        field("old_insz", 1, marks=["subject"]),
        field("new_insz", 2, marks=["subject"]),
    ),
    message("NoneRequest", field("insz", 1), field("read_mask", 2)),
    message("Empty"),
]
TEST_METHODS = [
    method("Get", P + "GetRequest", P + "GetResponse", idempotency=1, access=1),
    method("Many", P + "ManyRequest", P + "SearchResponse", idempotency=2, access=2),
    method("Nested", P + "NestedRequest", P + "Empty", access=7),
    method("Two", P + "TwoRequest", P + "Empty"),
    method("Plain", P + "NoneRequest", P + "Empty"),
    method("Watch", P + "GetRequest", P + "GetResponse", server_streaming=True),
    method("Upload", P + "ManyRequest", P + "Empty", client_streaming=True),
    method("Chat", P + "TwoRequest", P + "Empty", client_streaming=True, server_streaming=True),
]
TEST_FILE = proto_file(
    "test/v1/test.proto",
    "test.v1",
    TEST_MESSAGES,
    TEST_METHODS,
    deps=[OPTIONS_FILE, "google/type/date.proto", "google/protobuf/field_mask.proto"],
)
SERVICE = "test.v1.TestService"


def _field_mask_file() -> bytes:
    from google.protobuf import field_mask_pb2

    return copy_of(field_mask_pb2.DESCRIPTOR)


FULL_SET = [DESCRIPTOR_FILE, options_file(), DATE_FILE, _field_mask_file(), TEST_FILE]


@pytest.fixture(scope="module")
def catalog() -> ServiceCatalog:
    return ServiceCatalog.from_files(FULL_SET)


def _method(catalog: ServiceCatalog, name: str) -> MethodInfo:
    info = catalog.method(f"/{SERVICE}/{name}")
    assert info is not None
    return info


def _request(info: MethodInfo, **values: object) -> Message:
    """A request built with the catalog's own class, then round-tripped through bytes."""
    cls = type(info.parse_request(b""))
    return info.parse_request(cls(**values).SerializeToString())


def _bytes_of(info: MethodInfo, response: bool = False, **values: object) -> bytes:
    sample = info.parse_response(b"") if response else info.parse_request(b"")
    return type(sample)(**values).SerializeToString()


def _subjects(info: MethodInfo, request: Message) -> list[tuple[str, str]]:
    return [(s.field, s.value) for s in info.subjects(request)]


# Catalog building -------------------------------------------------------------------------------


def test_catalog_lists_services_and_methods_when_files_are_complete(
    catalog: ServiceCatalog,
) -> None:
    assert catalog.services() == [SERVICE]
    names = [m.name for m in catalog.methods(SERVICE)]
    assert names == ["Get", "Many", "Nested", "Two", "Plain", "Watch", "Upload", "Chat"]
    get = _method(catalog, "Get")
    assert get.path == "/test.v1.TestService/Get"
    assert (get.service, get.request_type, get.response_type) == (
        SERVICE,
        "test.v1.GetRequest",
        "test.v1.GetResponse",
    )


def test_unknown_service_raises_key_error_when_asked(catalog: ServiceCatalog) -> None:
    with pytest.raises(KeyError):
        catalog.methods("test.v1.Nope")
    assert catalog.method("/test.v1.TestService/Nope") is None
    assert catalog.method("test.v1.TestService/Get") is None


def test_streaming_flags_are_read_when_methods_stream(catalog: ServiceCatalog) -> None:
    flags = {
        m.name: (m.client_streaming, m.server_streaming)
        for m in catalog.methods(SERVICE)
        if m.name in ("Get", "Watch", "Upload", "Chat")
    }
    assert flags == {
        "Get": (False, False),
        "Watch": (False, True),
        "Upload": (True, False),
        "Chat": (True, True),
    }


def test_idempotent_is_true_when_level_is_no_side_effects_or_idempotent(
    catalog: ServiceCatalog,
) -> None:
    levels = {m.name: m.idempotent for m in catalog.methods(SERVICE)}
    assert levels["Get"] is True  # NO_SIDE_EFFECTS
    assert levels["Many"] is True  # IDEMPOTENT
    assert levels["Nested"] is False  # IDEMPOTENCY_UNKNOWN


def test_access_is_read_when_methods_declare_it(catalog: ServiceCatalog) -> None:
    access = {m.name: m.access for m in catalog.methods(SERVICE)}
    assert access["Get"] == "ACCESS_ROUTED"
    assert access["Many"] == "ACCESS_DIRECT"
    assert access["Nested"] == "ACCESS_UNSPECIFIED"  # a number the enum does not define
    assert access["Two"] == "ACCESS_UNSPECIFIED"  # not declared


def test_catalog_builds_when_files_are_given_out_of_order() -> None:
    reordered = ServiceCatalog.from_files(list(reversed(FULL_SET)))
    assert [str(p) for p in _method(reordered, "Get").subject_paths] == ["insz"]


def test_duplicate_files_are_ignored_when_identical() -> None:
    doubled = ServiceCatalog.from_files([*FULL_SET, TEST_FILE, options_file()])
    assert doubled.services() == [SERVICE]


def test_descriptor_error_when_one_file_is_given_twice_with_different_content() -> None:
    other = proto_file("test/v1/test.proto", "test.v1", [message("Other")])
    with pytest.raises(DescriptorError, match="twice"):
        ServiceCatalog.from_files([*FULL_SET, other])


def test_descriptor_error_when_a_dependency_is_missing() -> None:
    without_options = [f for f in FULL_SET if f != options_file()]
    with pytest.raises(DescriptorError, match="cbss/common/v1/options.proto"):
        ServiceCatalog.from_files(without_options)


def test_well_known_dependencies_are_filled_in_when_absent_from_the_set() -> None:
    catalog = ServiceCatalog.from_files([TEST_FILE, options_file()])
    names = [descriptor_pb2.FileDescriptorProto.FromString(f).name for f in catalog.files]
    assert set(names) == {
        "google/protobuf/descriptor.proto",
        "google/type/date.proto",
        "google/protobuf/field_mask.proto",
        OPTIONS_FILE,
        "test/v1/test.proto",
    }
    assert names.index("google/protobuf/descriptor.proto") < names.index(OPTIONS_FILE)
    assert names[-1] == "test/v1/test.proto"
    get = _method(catalog, "Get")
    request = _request(get, reference_date=_date(2024, 2, 29))
    assert get.reference_date(request) == datetime.date(2024, 2, 29)
    # The stored set is complete: it rebuilds without the default pool's help.
    assert ServiceCatalog.from_files(catalog.files).services() == [SERVICE]


def test_google_api_files_are_filled_in_with_their_own_dependencies_when_absent() -> None:
    file = proto_file(
        "api/v1/api.proto",
        "api.v1",
        [message("Req", field("x", 1))],
        [method("Do", ".api.v1.Req", ".api.v1.Req")],
        deps=["google/api/annotations.proto"],
    )
    catalog = ServiceCatalog.from_files([file])
    names = {descriptor_pb2.FileDescriptorProto.FromString(f).name for f in catalog.files}
    assert {"google/api/annotations.proto", "google/api/http.proto"} <= names


def test_descriptor_error_when_bytes_are_not_a_file_descriptor() -> None:
    with pytest.raises(DescriptorError):
        ServiceCatalog.from_files([b"\xff\xff\xff"])
    with pytest.raises(DescriptorError, match="no name"):
        ServiceCatalog.from_files(
            [descriptor_pb2.FileDescriptorProto(package="x").SerializeToString()]
        )


def test_descriptor_error_when_imports_form_a_cycle() -> None:
    a = proto_file("a.proto", "a", deps=["b.proto"])
    b = proto_file("b.proto", "b", deps=["a.proto"])
    with pytest.raises(DescriptorError, match="cycle"):
        ServiceCatalog.from_files([a, b])


def test_descriptor_error_when_a_type_is_unresolvable() -> None:
    file = proto_file(
        "x/v1/x.proto",
        "x.v1",
        [message("Req", field("p", 1, MESSAGE, type_name=".x.v1.Missing"))],
        [method("Do", ".x.v1.Req", ".x.v1.Req")],
    )
    with pytest.raises(DescriptorError, match="x/v1/x.proto"):
        ServiceCatalog.from_files([file])


def test_catalog_uses_its_own_pool_when_built() -> None:
    ServiceCatalog.from_files(FULL_SET)
    with pytest.raises(KeyError):
        descriptor_pool.Default().FindMessageTypeByName("test.v1.GetRequest")


def test_catalogs_are_independent_when_two_versions_of_a_file_exist() -> None:
    version_2 = proto_file(
        "test/v1/test.proto",
        "test.v1",
        [message("GetRequest", field("other", 1)), message("Empty")],
        [method("Get", P + "GetRequest", P + "Empty")],
    )
    old = ServiceCatalog.from_files(FULL_SET)
    new = ServiceCatalog.from_files([version_2])
    assert [str(p) for p in _method(old, "Get").subject_paths] == ["insz"]
    assert _method(new, "Get").subject_paths == ()
    assert new.method("/test.v1.TestService/Many") is None


def test_dependency_order_puts_dependencies_first_when_given_reversed() -> None:
    ordered = dependency_order(list(reversed(FULL_SET)))
    names = [descriptor_pb2.FileDescriptorProto.FromString(f).name for f in ordered]
    assert names.index("google/protobuf/descriptor.proto") < names.index(OPTIONS_FILE)
    assert names.index(OPTIONS_FILE) < names.index("test/v1/test.proto")
    assert names.index("google/type/date.proto") < names.index("test/v1/test.proto")
    assert len(names) == len(set(names)) == len(FULL_SET)


# Subjects ---------------------------------------------------------------------------------------


def test_single_subject_is_returned_when_string_field_is_marked(catalog: ServiceCatalog) -> None:
    get = _method(catalog, "Get")
    assert [str(p) for p in get.subject_paths] == ["insz"]
    assert _subjects(get, _request(get, insz="85071412330")) == [("insz", "85071412330")]


def test_no_subject_is_returned_when_marked_field_is_empty(catalog: ServiceCatalog) -> None:
    get = _method(catalog, "Get")
    assert get.subjects(_request(get)) == []


def test_every_element_is_a_subject_when_repeated_field_is_marked(
    catalog: ServiceCatalog,
) -> None:
    many = _method(catalog, "Many")
    assert [str(p) for p in many.subject_paths] == ["inszs[]"]
    request = _request(many, inszs=["85071412330", "", "90010100155", "85071412330"])
    assert _subjects(many, request) == [
        ("inszs[0]", "85071412330"),
        ("inszs[2]", "90010100155"),  # the empty element is no subject; indices stay the wire's
        ("inszs[3]", "85071412330"),  # duplicates are kept
    ]


def test_nested_subjects_are_read_when_message_fields_hold_marked_fields(
    catalog: ServiceCatalog,
) -> None:
    nested = _method(catalog, "Nested")
    assert [str(p) for p in nested.subject_paths] == [
        "pair.insz",
        "pair.partner_insz",
        "pairs[].insz",  # `pairs` is not marked: every message field is searched
        "pairs[].partner_insz",
    ]
    cls = type(nested.parse_request(b""))
    pair = cls.DESCRIPTOR.fields_by_name["pair"].message_type
    pair_cls = message_factory.GetMessageClass(pair)
    request = _request(
        nested,
        pair=pair_cls(insz="a1", partner_insz="a2", note="n"),
        pairs=[pair_cls(insz="b1"), pair_cls(), pair_cls(insz="d1", partner_insz="d2")],
    )
    assert _subjects(nested, request) == [
        ("pair.insz", "a1"),
        ("pair.partner_insz", "a2"),
        ("pairs[0].insz", "b1"),
        ("pairs[2].insz", "d1"),
        ("pairs[2].partner_insz", "d2"),
    ]


def test_unset_nested_message_gives_no_subject_when_absent(catalog: ServiceCatalog) -> None:
    nested = _method(catalog, "Nested")
    assert nested.subjects(_request(nested, request_id="r")) == []


def test_both_subjects_are_returned_when_two_fields_are_marked(catalog: ServiceCatalog) -> None:
    two = _method(catalog, "Two")
    request = _request(two, old_insz="85071412330", new_insz="90010100155")
    assert _subjects(two, request) == [("old_insz", "85071412330"), ("new_insz", "90010100155")]


def test_no_subject_paths_when_nothing_is_marked(catalog: ServiceCatalog) -> None:
    plain = _method(catalog, "Plain")
    assert plain.subject_paths == ()
    assert plain.reference_date_path is None
    assert plain.subjects(_request(plain, insz="85071412330")) == []


def test_no_field_is_marked_when_files_do_not_import_the_options() -> None:
    file = proto_file(
        "bare/v1/bare.proto",
        "bare.v1",
        [message("Req", field("insz", 1))],
        [method("Do", ".bare.v1.Req", ".bare.v1.Req")],
    )
    info = ServiceCatalog.from_files([file]).method("/bare.v1.TestService/Do")
    assert info is not None
    assert (info.subject_paths, info.response_subject_paths) == ((), ())
    assert info.access == "ACCESS_UNSPECIFIED"
    assert info.subjects(info.parse_request(b"\x0a\x0b85071412330")) == []


def test_subject_repr_hides_the_value_when_printed() -> None:
    subject = Subject("85071412330", "insz")
    assert "85071412330" not in repr(subject)
    assert "insz" in repr(subject)


def test_subject_is_a_decode_error_when_proto2_string_is_not_utf8() -> None:
    file = proto_file(
        "p2/v1/p2.proto",
        "p2.v1",
        [message("Req", field("insz", 1, marks=["subject", "response_subject"]))],
        [method("Do", ".p2.v1.Req", ".p2.v1.Req")],
        deps=[OPTIONS_FILE],
        syntax="proto2",
    )
    info = ServiceCatalog.from_files([file, options_file()]).method("/p2.v1.TestService/Do")
    assert info is not None
    request = info.parse_request(b"\x0a\x02\xff\xfe")
    with pytest.raises(RequestDecodeError):
        info.subjects(request)
    with pytest.raises(ResponseDecodeError):
        info.response_subjects(b"\x0a\x02\xff\xfe")


# Marks the catalog refuses ---------------------------------------------------------------------


def _catalog_of(*messages: descriptor_pb2.DescriptorProto) -> ServiceCatalog:
    file = proto_file(
        "bad/v1/bad.proto",
        "bad.v1",
        messages,
        [method("Do", ".bad.v1.Req", ".bad.v1.Req")],
        deps=[OPTIONS_FILE, "google/type/date.proto"],
    )
    return ServiceCatalog.from_files([file, options_file()])


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([message("Req", field("n", 1, INT32, marks=["subject"]))], "string or message"),
        ([message("Req", field("b", 1, BYTES, marks=["response_subject"]))], "string or message"),
        (
            [
                message(
                    "Req", field("inner", 1, MESSAGE, type_name=".bad.v1.In", marks=["subject"])
                ),
                message("In", field("x", 1)),
            ],
            "holds no such field",
        ),
        ([message("Req", field("d", 1, marks=["reference_date"]))], "google.type.Date"),
        (
            [
                message(
                    "Req",
                    field("a", 1, MESSAGE, type_name=DATE, marks=["reference_date"]),
                    field("b", 2, MESSAGE, type_name=DATE, marks=["reference_date"]),
                )
            ],
            "several",
        ),
        (
            [
                message(
                    "Req",
                    field("a", 1, MESSAGE, repeated=True, type_name=DATE, marks=["reference_date"]),
                )
            ],
            "repeated",
        ),
        (
            [
                message("Req", field("items", 1, MESSAGE, repeated=True, type_name=".bad.v1.Item")),
                message("Item", field("d", 1, MESSAGE, type_name=DATE, marks=["reference_date"])),
            ],
            "repeated",
        ),
        (
            [
                message(
                    "Req",
                    field("insz", 1, marks=["subject"]),
                    field("children", 2, MESSAGE, repeated=True, type_name=".bad.v1.Req"),
                )
            ],
            "recursive",
        ),
    ],
    ids=[
        "subject-on-int",
        "response-subject-on-bytes",
        "subject-on-message-without-subjects",
        "reference-date-on-string",
        "two-reference-dates",
        "repeated-reference-date",
        "reference-date-under-repeated",
        "recursive-type-with-subject",
    ],
)
def test_descriptor_error_when_options_are_misplaced(
    messages: list[descriptor_pb2.DescriptorProto], expected: str
) -> None:
    with pytest.raises(DescriptorError, match=expected):
        _catalog_of(*messages)


def test_descriptor_error_when_a_map_holds_subjects() -> None:
    entry = message(
        "PersonsEntry",
        field("key", 1),
        field("value", 2, MESSAGE, type_name=".bad.v1.Person"),
    )
    entry.options.map_entry = True
    req = message(
        "Req", field("persons", 1, MESSAGE, repeated=True, type_name=".bad.v1.Req.PersonsEntry")
    )
    req.nested_type.append(entry)
    with pytest.raises(DescriptorError, match="map"):
        _catalog_of(req, message("Person", field("insz", 1, marks=["subject"])))


def test_recursive_type_is_accepted_when_it_holds_no_marked_field() -> None:
    catalog = _catalog_of(
        message(
            "Req",
            field("insz", 1, marks=["subject"]),
            field("tree", 2, MESSAGE, type_name=".bad.v1.Tree"),
        ),
        message(
            "Tree",
            field("label", 1),
            field("children", 2, MESSAGE, repeated=True, type_name=".bad.v1.Tree"),
        ),
    )
    info = catalog.method("/bad.v1.TestService/Do")
    assert info is not None
    assert [str(p) for p in info.subject_paths] == ["insz"]


def test_reference_date_is_read_when_nested_in_singular_messages() -> None:
    catalog = _catalog_of(
        message("Req", field("ctx", 1, MESSAGE, type_name=".bad.v1.Ctx")),
        message("Ctx", field("on", 1, MESSAGE, type_name=DATE, marks=["reference_date"])),
    )
    info = catalog.method("/bad.v1.TestService/Do")
    assert info is not None and str(info.reference_date_path) == "ctx.on"
    assert info.reference_date(info.parse_request(b"")) is None
    request = _request(info, ctx={"on": _date(2024, 1, 2)})
    assert info.reference_date(request) == datetime.date(2024, 1, 2)


# Reference date and read mask -------------------------------------------------------------------


def _date(year: int, month: int, day: int) -> dict[str, int]:
    """A google.type.Date as a dict: valid for the generated class and the catalog's own."""
    return {"year": year, "month": month, "day": day}


def test_reference_date_is_returned_when_present(catalog: ServiceCatalog) -> None:
    get = _method(catalog, "Get")
    assert str(get.reference_date_path) == "reference_date"
    request = _request(get, reference_date=_date(2024, 2, 29))
    assert get.reference_date(request) == datetime.date(2024, 2, 29)


def test_reference_date_is_none_when_absent(catalog: ServiceCatalog) -> None:
    get = _method(catalog, "Get")
    assert get.reference_date(_request(get, insz="85071412330")) is None


@pytest.mark.parametrize(
    "date",
    [(2024, 13, 1), (2023, 2, 29), (2024, 0, 0), (2024, 5, 0), (0, 0, 0), (-1, 1, 1)],
    ids=["month-13", "not-a-leap-year", "year-only", "no-day", "empty", "negative-year"],
)
def test_invalid_reference_date_when_date_is_impossible_or_partial(
    catalog: ServiceCatalog, date: tuple[int, int, int]
) -> None:
    get = _method(catalog, "Get")
    request = _request(get, reference_date=_date(*date))
    with pytest.raises(InvalidReferenceDate) as err:
        get.reference_date(request)
    assert err.value.field == "reference_date"


def test_read_mask_paths_are_returned_when_mask_is_set(catalog: ServiceCatalog) -> None:
    get = _method(catalog, "Get")
    assert str(get.read_mask_path) == "read_mask"
    # read_mask (field 2) with paths "identity" and "address".
    data = b"\x12\x13\x0a\x08identity\x0a\x07address"
    assert get.read_mask(get.parse_request(data)) == ("identity", "address")


def test_read_mask_is_none_when_unset_and_empty_when_set_empty(catalog: ServiceCatalog) -> None:
    get = _method(catalog, "Get")
    assert get.read_mask(get.parse_request(b"")) is None
    assert get.read_mask(get.parse_request(b"\x12\x00")) == ()


def test_read_mask_path_is_none_when_field_is_not_a_field_mask(catalog: ServiceCatalog) -> None:
    plain = _method(catalog, "Plain")  # has a *string* field named read_mask
    assert plain.read_mask_path is None
    assert plain.read_mask(plain.parse_request(b"\x12\x01x")) is None


# Response subjects ------------------------------------------------------------------------------


def test_response_subjects_are_read_when_nested_in_repeated_messages(
    catalog: ServiceCatalog,
) -> None:
    many = _method(catalog, "Many")
    assert [str(p) for p in many.response_subject_paths] == [
        "persons[].insz",
        "persons[].status.replaced_by",
        "persons[].status.replaces[]",
    ]
    cls = type(many.parse_response(b""))
    person = cls.DESCRIPTOR.fields_by_name["persons"].message_type
    person_cls = message_factory.GetMessageClass(person)
    response = cls(
        persons=[
            person_cls(insz="p1", name="x"),
            person_cls(insz="p2", status={"replaced_by": "p3", "replaces": ["p4", "", "p5"]}),
            person_cls(),
        ],
        next_page_token="t",
    )
    assert many.response_subjects(response.SerializeToString()) == ["p1", "p2", "p3", "p4", "p5"]


def test_response_subjects_are_read_when_message_field_is_unmarked(
    catalog: ServiceCatalog,
) -> None:
    get = _method(catalog, "Get")
    assert [str(p) for p in get.response_subject_paths] == [
        "person.insz",
        "person.status.replaced_by",
        "person.status.replaces[]",
    ]
    data = _bytes_of(get, response=True, person={"insz": "p1", "status": {"replaces": ["p0"]}})
    assert get.response_subjects(data) == ["p1", "p0"]
    assert get.response_subjects(b"") == []


def test_response_decode_error_when_response_bytes_are_corrupt(catalog: ServiceCatalog) -> None:
    with pytest.raises(ResponseDecodeError):
        _method(catalog, "Many").response_subjects(b"\x0a\x05ab")


def test_request_decode_error_when_request_bytes_are_corrupt(catalog: ServiceCatalog) -> None:
    with pytest.raises(RequestDecodeError):
        _method(catalog, "Get").parse_request(b"\x0a\xff\xfe")


# Arbitrary bytes --------------------------------------------------------------------------------

_CATALOG = ServiceCatalog.from_files(FULL_SET)
_ALL_METHODS = [m for s in _CATALOG.services() for m in _CATALOG.methods(s)]


def _proto2_methods() -> list[MethodInfo]:
    file = proto_file(
        "p2/v1/p2.proto",
        "p2.v1",
        [
            message(
                "Req",
                field("insz", 1, marks=["subject", "response_subject"]),
                field("inszs", 2, repeated=True, marks=["subject", "response_subject"]),
                field("wrap", 3, MESSAGE, type_name=".p2.v1.Wrap"),
            ),
            message("Wrap", field("insz", 1, marks=["subject", "response_subject"])),
        ],
        [method("Do", ".p2.v1.Req", ".p2.v1.Req")],
        deps=[OPTIONS_FILE],
        syntax="proto2",
    )
    catalog = ServiceCatalog.from_files([file, options_file()])
    return catalog.methods("p2.v1.TestService")


_FUZZED = _ALL_METHODS + _proto2_methods()


def _tagged(fields: list[tuple[int, bytes]]) -> bytes:
    """Length-delimited fields, to reach past the first byte more often than random bytes."""
    return b"".join(_varint(n << 3 | 2) + _varint(len(v)) + v for n, v in fields)


_payloads = st.one_of(
    st.binary(max_size=64),
    st.lists(st.tuples(st.integers(1, 4), st.binary(max_size=24)), max_size=6).map(_tagged),
)


@settings(max_examples=400, deadline=None)
@given(index=st.integers(0, len(_FUZZED) - 1), data=_payloads)
def test_parse_request_returns_or_raises_decode_error_when_bytes_are_arbitrary(
    index: int, data: bytes
) -> None:
    info = _FUZZED[index]
    try:
        request = info.parse_request(data)
    except RequestDecodeError:
        return
    assert isinstance(request, Message)
    try:
        subjects = info.subjects(request)
    except RequestDecodeError:
        subjects = []
    assert all(isinstance(s.value, str) and s.value for s in subjects)
    try:
        date = info.reference_date(request)
    except InvalidReferenceDate:
        date = None
    assert date is None or isinstance(date, datetime.date)
    mask = info.read_mask(request)
    assert mask is None or all(isinstance(p, str) for p in mask)


@settings(max_examples=400, deadline=None)
@given(index=st.integers(0, len(_FUZZED) - 1), data=_payloads)
def test_response_subjects_returns_or_raises_decode_error_when_bytes_are_arbitrary(
    index: int, data: bytes
) -> None:
    try:
        found = _FUZZED[index].response_subjects(data)
    except ResponseDecodeError:
        return
    assert all(isinstance(v, str) and v for v in found)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="0123456789", max_size=11), max_size=8))
def test_subjects_match_the_non_empty_elements_when_a_repeated_field_is_sent(
    inszs: list[str],
) -> None:
    many = _method(_CATALOG, "Many")
    request = _request(many, inszs=inszs)
    expected = [(f"inszs[{i}]", v) for i, v in enumerate(inszs) if v]
    assert _subjects(many, request) == expected


# The real contracts -----------------------------------------------------------------------------


def test_echo_methods_have_no_subjects_when_built_from_generated_descriptors() -> None:
    from cbss.echo.v1 import echo_pb2

    catalog = ServiceCatalog.from_files(with_closure(echo_pb2.DESCRIPTOR))
    assert catalog.services() == ["cbss.echo.v1.EchoService"]
    echo = catalog.method("/cbss.echo.v1.EchoService/Echo")
    assert echo is not None
    assert (echo.subject_paths, echo.response_subject_paths) == ((), ())
    assert echo.reference_date_path is None and echo.read_mask_path is None
    if echo_pb2.DESCRIPTOR.dependencies:  # the contract declares who may call it
        assert {m.access for m in catalog.methods("cbss.echo.v1.EchoService")} == {"ACCESS_DIRECT"}
    request = echo.parse_request(echo_pb2.EchoRequest(payload=b"ping").SerializeToString())
    assert echo.subjects(request) == []
    assert [m.name for m in catalog.methods("cbss.echo.v1.EchoService")] == [
        "Echo",
        "CreateNote",
        "GetNote",
    ]


@pytest.fixture(scope="module")
def registry() -> ServiceCatalog:
    registry_pb2 = pytest.importorskip("cbss.registry.v1.registry_pb2")
    return ServiceCatalog.from_files(with_closure(registry_pb2.DESCRIPTOR))


def _registry(registry: ServiceCatalog, name: str) -> MethodInfo:
    info = registry.method(f"/cbss.registry.v1.RegistryService/{name}")
    assert info is not None
    return info


def test_registry_get_person_is_fully_described_when_built_from_generated_descriptors(
    registry: ServiceCatalog,
) -> None:
    from cbss.registry.v1 import registry_pb2

    get = _registry(registry, "GetPerson")
    assert [str(p) for p in get.subject_paths] == ["insz"]
    assert str(get.reference_date_path) == "reference_date"
    assert str(get.read_mask_path) == "read_mask"
    assert [str(p) for p in get.response_subject_paths] == [
        "person.insz",
        "person.status.replaced_by",
        "person.status.replaces[]",
    ]
    sent = registry_pb2.GetPersonRequest(insz="85071412330", reference_date=_date(2024, 3, 1))
    sent.read_mask.paths.extend(["identity", "address"])
    request = get.parse_request(sent.SerializeToString())
    assert _subjects(get, request) == [("insz", "85071412330")]
    assert get.reference_date(request) == datetime.date(2024, 3, 1)
    assert get.read_mask(request) == ("identity", "address")
    reply = registry_pb2.GetPersonResponse(
        person=registry_pb2.Person(
            insz="85071412330",
            status=registry_pb2.PersonStatus(replaces=["85071412331"]),
        )
    )
    assert get.response_subjects(reply.SerializeToString()) == ["85071412330", "85071412331"]


def test_registry_marks_are_read_when_built_from_generated_descriptors(
    registry: ServiceCatalog,
) -> None:
    from cbss.registry.v1 import registry_pb2

    assert _registry(registry, "ValidateInsz").subject_paths == ()
    replace = _registry(registry, "ReplaceInsz")
    assert [str(p) for p in replace.subject_paths] == ["old_insz", "new_insz"]
    assert str(replace.reference_date_path) == "effective_date"
    search = _registry(registry, "SearchPersons")
    assert search.subject_paths == () and search.reference_date_path is None
    found = registry_pb2.SearchPersonsResponse(
        persons=[registry_pb2.PersonSummary(insz=i) for i in ("1", "2", "3")]
    )
    assert search.response_subjects(found.SerializeToString()) == ["1", "2", "3"]
    events = _registry(registry, "ListMutationEvents")
    assert "events[].before.insz.insz" in [str(p) for p in events.response_subject_paths]


def test_self_service_is_read_when_methods_declare_it(registry: ServiceCatalog) -> None:
    # Only a person's own consultations declare it; the option is read from the catalog's own
    # pool (the default pool's options objects do not know it).
    assert _registry(registry, "GetPerson").self_service
    for name in ("GetPersonStatuses", "SearchPersons", "ValidateInsz", "ListMutationEvents"):
        assert not _registry(registry, name).self_service


def test_self_service_is_false_when_files_do_not_import_the_options() -> None:
    from cbss.echo.v1 import echo_pb2

    catalog = ServiceCatalog.from_files(with_closure(echo_pb2.DESCRIPTOR))
    assert not any(m.self_service for m in catalog.methods("cbss.echo.v1.EchoService"))


# Micro-benchmark (figures printed with -s; nothing asserted about time) -------------------------


def test_micro_benchmark_prints_per_call_costs_when_run(registry: ServiceCatalog) -> None:
    from cbss.registry.v1 import registry_pb2

    get = _registry(registry, "GetPerson")
    sent = registry_pb2.GetPersonRequest(insz="85071412330", reference_date=_date(2024, 3, 1))
    sent.read_mask.paths.extend(["identity", "address"])
    data = sent.SerializeToString()
    request = get.parse_request(data)
    search = _registry(registry, "SearchPersons")
    page = registry_pb2.SearchPersonsResponse(
        persons=[
            registry_pb2.PersonSummary(insz=f"850714123{i:02d}", last_name="Peeters")
            for i in range(50)
        ]
    ).SerializeToString()
    many = _method(_CATALOG, "Many")
    many_data = _bytes_of(many, inszs=[f"850714123{i:02d}" for i in range(20)])

    def per_call(fn: object, number: int) -> float:
        return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6  # type: ignore[arg-type]

    figures = {
        f"parse GetPersonRequest ({len(data)} B)": per_call(lambda: get.parse_request(data), 20000),
        "subjects(GetPersonRequest)": per_call(lambda: get.subjects(request), 20000),
        "parse + subjects + reference_date + read_mask": per_call(
            lambda: (
                (r := get.parse_request(data)),
                get.subjects(r),
                get.reference_date(r),
                get.read_mask(r),
            ),
            20000,
        ),
        "parse + subjects, 20 repeated subjects": per_call(
            lambda: many.subjects(many.parse_request(many_data)), 5000
        ),
        f"response_subjects, 50 persons ({len(page)} B)": per_call(
            lambda: search.response_subjects(page), 2000
        ),
        "catalog build, registry (ms)": per_call(
            lambda: ServiceCatalog.from_files(registry.files), 20
        )
        / 1000,
    }
    # The figures are the point of this test: shown with `pytest -s`.
    print()  # noqa: T201
    for name, value in figures.items():
        print(f"  {name:<52} {value:8.2f} {'ms' if '(ms)' in name else 'µs'}")  # noqa: T201
    assert all(value > 0 for value in figures.values())
