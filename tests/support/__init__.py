"""Test support: a loopback package index, wheel and sdist makers, shared fixtures."""
