"""Session-wide test ordering.

The tests marked ``notebooks`` go first: they execute the chapter notebooks into the
jupyter-cache, and a book build later in the same session (tests/test_book.py) then
takes the outputs from there instead of executing every notebook a second time.
"""

from __future__ import annotations


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.get_closest_marker("notebooks") is None)
