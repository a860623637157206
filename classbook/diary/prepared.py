"""Moved to ``classbook.core.prepared`` (the school context compiles its query once too)."""

from classbook.core.prepared import Prepared

__all__ = ["Prepared"]
