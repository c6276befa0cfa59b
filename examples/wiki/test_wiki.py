"""Tests of the wiki example: the documented scenario of section 1.5.10 (explicit
style) and the declarative aggregates of section 1.4.9, on each backend."""

from __future__ import annotations

import pytest

from eventsourcing.persistence import IntegrityError, RecordConflictError
from examples.wiki import declarative
from examples.wiki.application import DeclarativeWiki, NameTakenError, Wiki


def make_app(**env: str) -> Wiki:
    return Wiki(env=env)


def test_saving_multiple_aggregates(env: dict[str, str]) -> None:
    wiki = make_app(**env)

    wiki.create_page(name="Erth", body="Lorem ipsum...")

    assert wiki.get_page(name="Erth").body == "Lorem ipsum..."

    wiki.rename_page(name="Erth", new_name="Earth")

    assert wiki.get_page(name="Earth").body == "Lorem ipsum..."

    # Can't create another page using an existing name.
    try:
        wiki.create_page(name="Earth", body="Neque porro quisquam...")
    except RecordConflictError:
        pass
    else:
        raise AssertionError("RecordConflictError not raised")

    assert wiki.get_page(name="Earth").body == "Lorem ipsum..."

    # Can't rename another page to an existing name.
    wiki.create_page(name="Mars", body="Neque porro quisquam...")
    try:
        wiki.rename_page(name="Mars", new_name="Earth")
    except RecordConflictError:
        pass
    else:
        raise AssertionError("RecordConflictError not raised")

    assert wiki.get_page(name="Earth").body == "Lorem ipsum..."
    assert wiki.get_page(name="Mars").body == "Neque porro quisquam..."


def test_conflicting_save_records_nothing(env: dict[str, str]) -> None:
    wiki = make_app(**env)
    wiki.create_page(name="Earth", body="Lorem ipsum...")
    max_id_before = wiki.recorder.max_notification_id()

    with pytest.raises(IntegrityError):
        wiki.create_page(name="Earth", body="Neque porro quisquam...")

    # Neither the new page nor its index was recorded.
    assert wiki.recorder.max_notification_id() == max_id_before
    assert len(wiki.log["1,10"].items) == 2


def test_declarative_page_and_index() -> None:
    # Create new page and index aggregates.
    page = declarative.Page(name="Erth")
    index1 = declarative.Index(name=page.name, ref=page.id)

    index_id = declarative.Index.create_id(name="Erth")
    assert index_id == index1.id
    assert index1.ref == page.id
    assert index1.name == page.name

    # Later, the page name can be updated,
    # and a new index created for the page.
    page.update_name(name="Earth")
    index1.update_ref(ref=None)
    index2 = declarative.Index(name=page.name, ref=page.id)

    index_id = declarative.Index.create_id(name="Earth")
    assert index_id == index2.id
    assert index2.ref == page.id
    assert index2.name == page.name


def test_declarative_wiki_releases_old_names(env: dict[str, str]) -> None:
    wiki = DeclarativeWiki(env=env)
    wiki.create_page(name="Erth", body="Lorem ipsum...")
    assert wiki.rename_page(name="Erth", new_name="Earth") == "Lorem ipsum..."
    assert wiki.get_page(name="Earth").body == "Lorem ipsum..."

    # The old name is released: it finds nothing, and can be given to a new page.
    with pytest.raises(KeyError, match="Erth"):
        wiki.get_page(name="Erth")
    wiki.create_page(name="Erth", body="Typo museum")
    assert wiki.get_page(name="Erth").body == "Typo museum"

    # A name in use can't be taken, and nothing is recorded when it is tried.
    max_id_before = wiki.recorder.max_notification_id()
    with pytest.raises(NameTakenError):
        wiki.create_page(name="Earth", body="Neque porro quisquam...")
    with pytest.raises(NameTakenError):
        wiki.rename_page(name="Erth", new_name="Earth")
    assert wiki.recorder.max_notification_id() == max_id_before
    assert wiki.get_page(name="Earth").body == "Lorem ipsum..."
