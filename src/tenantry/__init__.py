"""Tenantry: self-hosted, multi-tenant user and organization management."""

__version__ = "0.1.0"
