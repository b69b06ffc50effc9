"""lowincome: ingestion, validation, warehouse and monitoring of Zhejiang's income-doubling plan."""

__version__ = "0.1.0"
