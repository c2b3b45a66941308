"""Helpers shared by the collection's tests (fake services run on loopback)."""
