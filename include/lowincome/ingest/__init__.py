"""Ingestion of county submissions: landing -> validation -> raw, with a ledger of every file.

Entry points: :func:`lowincome.ingest.runner.ingest_folder` (``lowincome ingest DIR``, and the same
steps the nightly DAG runs through ``runner.plan_batches/parse_batch/split_waves/validate_batch/
load_batch``), :func:`lowincome.ingest.ledger.status_report` (``lowincome status``).

Modules, in the order a file meets them: ``landing`` (what waits), ``storage`` (checksum, archive,
quarantine), ``readers`` and ``sheet_stream`` (CSV and workbooks, streamed), ``headers`` (which
template, which column), ``cells`` and ``parser`` (data rows, normalised, pseudonyms), ``names`` (what a
file name hints, safe names), ``intake`` (one file into a load table), ``load_tables`` (the scratch
tables), ``loader`` (the one-transaction load and the ledger row), ``feedback`` (the county's file),
``reasons`` (codes and Chinese words, ``include/config/file_reasons.yaml``).
"""
