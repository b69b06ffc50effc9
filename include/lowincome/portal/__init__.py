"""The county submission portal: clerks upload a file, see the night's findings at once (the same readers
and GX rules), withdraw or submit it into landing, and follow their reporting calendar; the province
sees who is late and chases them (催报).

Modules: ``db`` (its ops tables, the audit log), ``accounts`` (argon2 hashes, login throttling),
``checking`` (one file through ingestion's own parse and validation, into a load table dropped after;
the findings as the feedback file would list them), ``calendar`` (expected files and their state),
``app`` (the FastAPI application), ``commands`` (``lowincome portal``, ``lowincome portal-user``).
"""
