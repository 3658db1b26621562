"""Bantay: detect payments for suspected online child sexual exploitation (OCSE) and draft SARs."""

from __future__ import annotations

__version__ = "0.1.0"
