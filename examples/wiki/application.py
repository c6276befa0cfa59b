"""The ``Wiki`` application (section 1.5.10): each command saves a page together with
the index for its name, so a name collision records nothing."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import Application

from . import declarative
from .domainmodel import Index, Page


class Wiki(Application):
    def create_page(self, name: str, body: str) -> None:
        page = Page.create(name, body)
        index = Index.create(page)
        self.save(page, index)

    def rename_page(self, name: str, new_name: str) -> str:
        page = self.get_page(name)
        page.update_name(new_name)
        index = Index.create(page)
        self.save(page, index)
        return page.body

    def get_page(self, name: str) -> Page:
        index_id = Index.create_id(name)
        index = self.repository.get(index_id)
        page_id = index.ref
        page: Page = self.repository.get(page_id)
        return page


class DeclarativeWiki(Application):
    """The same application, with the aggregates in declarative style.

    Renaming a page also releases the old name: the old index no longer refers to
    the page, so the old name can be given to another page.
    """

    def create_page(self, name: str, body: str) -> None:
        page = declarative.Page(name=name, body=body)
        index = self._get_or_create_index(name, page.id)
        self.save(page, index)

    def rename_page(self, name: str, new_name: str) -> str:
        old_index = self._get_index(name)
        page = self.get_page(name)
        page.update_name(new_name)
        old_index.update_ref(None)
        new_index = self._get_or_create_index(new_name, page.id)
        self.save(page, old_index, new_index)
        return page.body

    def get_page(self, name: str) -> declarative.Page:
        page_id = self._get_index(name).ref
        if page_id is None:
            msg = f"Page {name!r} not found"
            raise KeyError(msg)
        page: declarative.Page = self.repository.get(page_id)
        return page

    def _get_index(self, name: str) -> declarative.Index:
        index: declarative.Index = self.repository.get(
            declarative.Index.create_id(name)
        )
        return index

    def _get_or_create_index(self, name: str, page_id: UUID) -> declarative.Index:
        """Returns a new index for the name, or the released index of the name
        pointed at the page; raises :class:`NameTakenError` when a page has the
        name. Concurrent claims of one name conflict when saved."""
        index_id = declarative.Index.create_id(name)
        if index_id in self.repository:
            index = self._get_index(name)
            if index.ref is not None:
                msg = f"Page name {name!r} is already taken"
                raise NameTakenError(msg)
            index.update_ref(page_id)
            return index
        return declarative.Index(name=name, ref=page_id)


class NameTakenError(Exception):
    """Raised when a page is given a name that another page has."""
