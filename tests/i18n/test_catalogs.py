"""The catalogs are complete: every string the code and templates mark for translation has a French and a
German translation (non-empty, not fuzzy), and the catalogs Babel compiles at runtime are the ones served."""

from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from tenantry import i18n

TRANSLATED = [lang for lang in i18n.LANGUAGES if lang != i18n.DEFAULT]


def _source_messages(root: Path) -> set[str | tuple[str, ...]]:
    """What ``pybabel extract -F babel.cfg`` finds in the code and templates today."""
    with (root / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: set[str | tuple[str, ...]] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(root), method_map, options_map, keywords={"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
    ):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def _catalog(lang: str) -> dict[str | tuple[str, ...], Message]:
    with (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=lang)
    return {(m.id if isinstance(m.id, str) else tuple(m.id)): m for m in catalog if m.id}


@pytest.fixture(scope="module")
def source_messages(project_root: Path) -> set[str | tuple[str, ...]]:
    messages = _source_messages(project_root)
    assert len(messages) > 3
    return messages


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_marked_string_is_translated(lang: str, source_messages: set[str | tuple[str, ...]]) -> None:
    catalog = _catalog(lang)
    missing = sorted(str(m) for m in source_messages if m not in catalog)
    assert not missing, f"{lang}: not in the catalog (run pybabel extract/update, then translate): {missing}"
    incomplete = []
    for key in source_messages:
        message = catalog[key]
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        if message.fuzzy or not all(s.strip() for s in strings):
            incomplete.append(str(key))
    assert not incomplete, f"{lang}: untranslated or fuzzy: {sorted(incomplete)}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_runtime_catalog_is_the_po_file(lang: str) -> None:
    """Babel compiles the .po at first use: what a page gets is exactly what the file says."""
    translations = i18n.catalog(lang)
    for key, message in _catalog(lang).items():
        if isinstance(key, str) and not message.fuzzy:
            assert translations.gettext(key) == message.string


def test_negotiation_order() -> None:
    assert i18n.negotiate() == "en"
    assert i18n.negotiate(org_default="de") == "de"
    assert i18n.negotiate(accept_language="fr-CH, fr;q=0.9, en;q=0.8", org_default="de") == "fr"
    assert i18n.negotiate(accept_language="es, de;q=0.5, fr;q=0.7") == "fr"
    assert i18n.negotiate(accept_language="es, it", org_default="de") == "de"
    assert i18n.negotiate(user_locale="de-AT", accept_language="fr", org_default="en") == "de"
    assert i18n.negotiate(ui_locales="es fr", user_locale="de", accept_language="en") == "fr"
    assert i18n.negotiate(ui_locales="es", user_locale="de") == "de"


def test_language_block_and_formatting() -> None:
    from datetime import date

    with i18n.language("fr"):
        assert i18n.gettext("Skip to content") == "Aller au contenu"
        assert i18n.format_date(date(2026, 12, 3)) == "3 décembre 2026"
        assert i18n.format_number(2000).replace("\u202f", " ") == "2 000"
    with i18n.language("de-DE"):
        assert i18n.format_date(date(2026, 12, 3)) == "3. Dezember 2026"
        assert i18n.format_number(2000) == "2.000"
    assert i18n.current() == "en"
    assert i18n.gettext("Skip to content") == "Skip to content"
