"""Audit of employment-internship subsidy funds (就业见习补贴)."""

__version__ = "0.1.0"
