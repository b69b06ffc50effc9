"""Ingestion of county submissions: landing -> load table -> validation -> raw, with a ledger of every file.

A file goes through six stages, one module each, in this order:

1. ``read`` — files to rows: what the file really is (CSV in any of its encodings, a workbook, junk), its
   rows streamed (large sheets through :mod:`lowincome.xlsx_stream`).
2. ``recognise`` — which template, county and year: the header mapped onto a template of the data
   contract, and what the file's name hints (checked against the content).
3. ``normalise`` — the data rows' cells as the load table's text (trim, half-width, 万元, dates), not-data
   rows skipped, pseudonyms, streamed by ``COPY`` into the file's load table.
4. ``validate`` — the night's GX suites (:mod:`lowincome.quality`) on the load table, in two waves
   (registers first, then the files checked against them).
5. ``load`` — the ledger row, the passing rows into ``raw`` and the rejected rows, in one transaction;
   then the repeatable steps (quarantine, feedback, clear landing).
6. ``account`` — what became of each file: its outcome, the county's feedback file, ``lowincome status``.

Beside the stages: ``files`` (the landing folder, opened safely; the archive and the quarantine),
``load_tables`` (the scratch tables a file waits in between normalise and load), ``reasons`` (the
file-level reason codes and their Chinese words, ``include/config/file_reasons.yaml``), ``record`` (the
typed record of one file that the stages and the DAG's tasks pass on) and ``pipeline``, which runs the
stages: one file (:func:`~lowincome.ingest.pipeline.parse_file`), one folder
(:func:`~lowincome.ingest.pipeline.ingest_folder`, ``lowincome ingest DIR``) and the nightly DAG's tasks
(``pipeline.plan_batches/parse_batch/split_waves/validate_batch/load_batch``).
"""
