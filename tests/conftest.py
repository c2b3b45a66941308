"""Make `ansible_collections.*` importable when pytest runs from the repository root
(ansible-test sets this up itself)."""
import os
import sys

_collections = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".collections")
try:
    import ansible_collections.immersionday.ha_web  # noqa: F401  # pylint: disable=unused-import
except ImportError:
    if os.path.isdir(_collections):
        sys.path.insert(0, _collections)
