"""Bantay."""
