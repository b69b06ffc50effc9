"""Province-scale benchmarks of the lowincome pipeline (issue 7): ``python -m benchmarks`` / ``make bench``.

Each section measures the project's own path beside a reference measured in the same run on the same
machine (the physical limit, or the way people usually write it) and prints the ratio against its
target. Sections (``--only``): ingest, sqlnormalise (a prototype, issue 26.5), perfile, memory, night, first-night, incremental, marts, disclosure.
Everything runs in a dedicated database (``lowincome_bench`` + ``airflow_bench``) on the server in use,
dropped and created again at the start of every run; outputs go to ``benchmarks/out/`` (git-ignored).
Results that were recorded, with the machine and the command, are in ``benchmarks/RESULTS.md``.
"""

# marts and disclosure follow incremental: they read the five-year warehouse that section built (a
# section in between that resets the warehouse would make them build it again).
SECTIONS = ("ingest", "sqlnormalise", "perfile", "memory", "night", "first-night", "incremental", "marts", "disclosure")
