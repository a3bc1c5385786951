"""Session set-up shared by every test."""

import gc


def pytest_collection_finish(session):
    """Set the objects alive after collection (torch, BoTorch, pandas and every test
    module, hundreds of thousands of them) aside from garbage collection: each full
    collection then walks only what the tests themselves create."""
    gc.freeze()
