"""The portal's labels: every English key exists in French, Dutch and German with the same
placeholders, none is empty, and every key the pages name exists in English."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from portal.config import STATIC

I18N = STATIC / "i18n"
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def _load(lang: str) -> dict[str, str]:
    return json.loads((I18N / f"{lang}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("lang", ["fr", "nl", "de"])
def test_every_english_key_is_translated_when_the_language_is_loaded(lang: str) -> None:
    english, other = _load("en"), _load(lang)
    assert sorted(set(english) - set(other)) == []
    assert sorted(set(other) - set(english)) == []  # no stale key
    for key, text in other.items():
        assert isinstance(text, str) and text.strip(), (lang, key)
        assert set(_PLACEHOLDER.findall(text)) == set(_PLACEHOLDER.findall(english[key])), key


def test_english_has_no_empty_label_when_loaded() -> None:
    assert all(isinstance(v, str) and v.strip() for v in _load("en").values())


def _keys_named_by_the_pages() -> set[str]:
    keys: set[str] = set()
    for page in STATIC.glob("*.html"):
        keys |= set(re.findall(r'data-i18n(?:-aria-label)?="([^"]+)"', page.read_text()))
    for script in (STATIC / "js").glob("*.js"):
        keys |= set(re.findall(r'\bt\("([^"]+)"', script.read_text()))
    return keys


def test_every_label_the_pages_name_exists_in_english_when_rendered() -> None:
    keys = _keys_named_by_the_pages()
    assert len(keys) > 100
    assert sorted(keys - set(_load("en"))) == []


def test_every_page_declares_its_language_and_viewport_when_served() -> None:
    for page in STATIC.glob("*.html"):
        text = page.read_text()
        assert '<html lang="en">' in text, page.name
        assert 'name="viewport"' in text, page.name
        assert "<script>" not in text and " style=" not in text and "onclick=" not in text, (
            page.name
        )


def test_every_form_control_has_a_label_when_the_page_is_read() -> None:
    """Each input/select/textarea with an id is named by a <label for=...> (radios by their
    wrapping label)."""
    for page in STATIC.glob("*.html"):
        text = page.read_text()
        labelled = set(re.findall(r'<label for="([^"]+)"', text))
        for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", text):
            if 'type="radio"' in tag:
                continue
            control = re.search(r'id="([^"]+)"', tag)
            assert control and control.group(1) in labelled, (page.name, tag)


def test_i18n_files_are_utf8_json_objects_when_read() -> None:
    for path in Path(I18N).glob("*.json"):
        assert isinstance(json.loads(path.read_bytes().decode("utf-8")), dict)
    assert {p.stem for p in I18N.glob("*.json")} == {"en", "fr", "nl", "de"}


def _routed_methods() -> set[str]:
    """`package.Service/Method` of every ACCESS_ROUTED method in the contracts (the descriptor
    set `make proto` builds): what the router logs, and so what "who consulted my data" may
    show a person."""
    from google.protobuf import descriptor_pb2

    from cbss.common.v1 import options_pb2

    built = Path(__file__).resolve().parents[3] / "gen" / "carrefour.binpb"
    files = descriptor_pb2.FileDescriptorSet.FromString(built.read_bytes()).file
    routed = set()
    for file in files:
        for service in file.service:
            for method in service.method:
                options = descriptor_pb2.MethodOptions.FromString(
                    method.options.SerializeToString()
                )
                if options.Extensions[options_pb2.access] == options_pb2.ACCESS_ROUTED:
                    routed.add(f"{file.package}.{service.name}/{method.name}")
    return routed


def test_every_routed_method_has_a_plain_language_label_when_a_consultation_is_shown() -> None:
    """A person reads what was consulted in words, never as a gRPC method's name."""
    routed = _routed_methods()
    assert "cbss.registry.v1.RegistryService/GetPerson" in routed  # the set was read
    labelled = {key.removeprefix("method.") for key in _load("en") if key.startswith("method.")}
    assert sorted(routed - labelled) == []
    assert sorted(labelled - routed) == []  # no label for a method that is not routed
