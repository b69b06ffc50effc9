"""Ingestion of county submissions: landing -> validation -> raw, with a ledger of every file."""
