"""Wheels: the unpacked-wheel cache, fetching a registry wheel, installing into and removing from a venv."""
