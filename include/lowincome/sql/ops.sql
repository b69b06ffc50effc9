-- The operational ledger: what arrived, what became of it, and what was wrong.
-- Idempotent: run at every start-up. Later additions are written as `add column if not exists`.

create table if not exists ops.submissions (
    id              bigserial primary key,
    file_name       text not null,            -- the name as it arrived (may be non-UTF-8: stored escaped)
    sha256          char(64) not null,
    size_bytes      bigint not null default 0,
    county_code     text,
    template        text,
    year            smallint,
    status          text not null check (status in ('loaded', 'rejected', 'superseded', 'duplicate')),
    rows_read       integer not null default 0,
    rows_loaded     integer not null default 0,
    rows_rejected   integer not null default 0,
    rows_warned     integer not null default 0,
    reason          text,                     -- file-level reason (Chinese, for the county) when rejected
    reason_code     text,                     -- stable machine code of that reason
    received_at     timestamptz not null default now(),
    superseded_by   bigint references ops.submissions (id),
    duplicate_of    bigint references ops.submissions (id),
    archive_path    text,
    feedback_path   text,
    explanation     text,                     -- 上报说明: accepted warnings (强制上报)
    constraint rows_accounted check (status in ('rejected', 'duplicate') or rows_read = rows_loaded + rows_rejected)
);
-- The same bytes are accepted once. A copy of a rejected file is validated again (its register may have
-- come since) and gets a row of its own, rejected again or loaded (lowincome.ingest.load.earlier_copy).
drop index if exists ops.submissions_sha256_once;
create unique index if not exists submissions_sha256_accepted on ops.submissions (sha256)
    where status in ('loaded', 'superseded');
create index if not exists submissions_sha256 on ops.submissions (sha256);
create index if not exists submissions_county_template_year on ops.submissions (county_code, template, year);

create table if not exists ops.rejected_rows (
    id              bigserial primary key,
    submission_id   bigint not null references ops.submissions (id),
    row_number      integer not null,         -- the row number the county sees in its own file
    column_name     text,
    rule            text not null,            -- the expectation / rule that failed
    reason          text not null,            -- in Chinese, for the county clerk
    raw_values      jsonb not null default '{}'::jsonb
);
create index if not exists rejected_rows_submission on ops.rejected_rows (submission_id);

create table if not exists ops.row_warnings (
    id              bigserial primary key,
    submission_id   bigint not null references ops.submissions (id),
    row_number      integer,
    column_name     text,
    rule            text not null,
    reason          text not null,
    accepted        boolean not null default false   -- accepted by a 上报说明 (forced submission)
);
create index if not exists row_warnings_submission on ops.row_warnings (submission_id);

create table if not exists ops.validation_runs (
    id              bigserial primary key,
    submission_id   bigint not null references ops.submissions (id),
    suite           text not null,
    success         boolean not null,
    started_at      timestamptz not null default now(),
    finished_at     timestamptz
);

create table if not exists ops.validation_results (
    id              bigserial primary key,
    run_id          bigint not null references ops.validation_runs (id),
    submission_id   bigint not null references ops.submissions (id),
    expectation     text not null,
    column_name     text,
    severity        text not null check (severity in ('reject_file', 'reject_row', 'warn')),
    success         boolean not null,
    unexpected_count integer not null default 0,
    observed_value  text
);
create index if not exists validation_results_submission on ops.validation_results (submission_id);

create table if not exists ops.pipeline_runs (
    id              bigserial primary key,
    dag_id          text not null,
    run_id          text not null,
    started_at      timestamptz not null default now(),
    finished_at     timestamptz,
    outcome         text
);

-- --- ingestion (include/lowincome/ingest/) ------------------------------------------------------
-- The scratch table a file was parsed into: one file is finalised once, even when a task retries.
alter table ops.submissions add column if not exists load_token text;
create unique index if not exists submissions_load_token on ops.submissions (load_token) where load_token is not null;
alter table ops.submissions add column if not exists cleared_at timestamptz;  -- removed from landing (after the commit)
alter table ops.submissions add column if not exists source_format text;     -- csv | xlsx
alter table ops.submissions add column if not exists source_sheet text;      -- the data sheet of a workbook
alter table ops.submissions add column if not exists source_encoding text;   -- the encoding of a CSV
create index if not exists submissions_status on ops.submissions (status);
create index if not exists rejected_rows_submission_row on ops.rejected_rows (submission_id, row_number);

-- Registry of the scratch tables ops."load_<token>" between parse, validate and load. A table whose
-- run is gone (a killed process, a failed DAG run) is dropped at the start of the next run.
create table if not exists ops.load_tables (
    name            text primary key,           -- load_<token>
    run_id          text not null,              -- the DAG run, or cli-<uuid> for `lowincome ingest`
    batch           text,                       -- the county group of the DAG's mapping
    owner_lock      integer,                    -- CLI runs: advisory lock (7301003, owner_lock) held while alive
    created_at      timestamptz not null default now(),
    outcome         jsonb                       -- the ValidationOutcome, between the validate and load tasks
);

-- --- warehouse builds (include/lowincome/transform/plan.py) ---------------------------------------
-- One row per build of the warehouse: what it planned to run and why; finished_at only when every
-- planned dbt node succeeded. The next build plans what changed since the last finished one.
create table if not exists ops.warehouse_builds (
    id                  bigserial primary key,
    run_id              text,                      -- the DAG run (or what ran dbt outside Airflow)
    planned_at          timestamptz not null default now(),
    finished_at         timestamptz,
    scope               text not null check (scope in ('all', 'changes')),
    reason              text not null,
    project_fingerprint text not null,             -- dbt version + nodes, sources and macros
    loaded_submissions  bigint[] not null,         -- ops.submissions 'loaded' when planned
    changed_templates   text[] not null default '{}',
    nodes_planned       integer                    -- null when scope = 'all'
);
alter table ops.warehouse_builds add column if not exists test_counties text;  -- '*' or the counties tests read

-- --- the warehouse lock (include/lowincome/night_lock.py) -----------------------------------------
-- One row: who may take landing files into the ledger now (a command, alive while its backend holds the
-- advisory lock 7301002, or an ingest DAG run, alive while its heartbeat is recent). NULL holder: free.
create table if not exists ops.ingest_lock (
    only_row        boolean primary key default true check (only_row),
    holder          text,
    kind            text check (kind in ('cli', 'dag')),
    backend_pid     integer,                    -- kind 'cli': the backend holding the advisory lock
    taken_at        timestamptz,
    heartbeat_at    timestamptz
);
insert into ops.ingest_lock (only_row) values (true) on conflict do nothing;

-- --- publications (include/lowincome/publish/marts.py) ----------------------------------------------
-- Every publish_monitoring run: the warehouse build it published ('published', once the marts are
-- readable again), or found already published when Airflow started it on an asset event ('unchanged':
-- a recorded no-op, e.g. an event a `lowincome run` emitted and then consumed itself).
create table if not exists ops.publications (
    id              bigserial primary key,
    run_id          text not null,
    warehouse_build bigint,                    -- ops.warehouse_builds.id; null: no finished build on record
    recorded_at     timestamptz not null default now(),
    outcome         text not null check (outcome in ('published', 'unchanged'))
);
create index if not exists publications_build on ops.publications (warehouse_build, outcome);

-- --- the receipt date a file carries (include/lowincome/ingest/pipeline.py: receipt_date) ----------------
-- The day the county's file arrived (Asia/Shanghai): its modification time in the landing folder, which an
-- upload sets when the file arrives or keeps from the county's copy (never after the night that loads it).
-- Timeliness (marts.submission_completeness) is judged by it; received_at is the night that loaded the
-- file. Rows older than the column take the date of their night.
alter table ops.submissions add column if not exists received_on date;
update ops.submissions set received_on = (received_at at time zone 'Asia/Shanghai')::date where received_on is null;
alter table ops.submissions alter column received_on set default ((now() at time zone 'Asia/Shanghai')::date);
alter table ops.submissions alter column received_on set not null;

-- --- disclosure control (include/lowincome/publish/disclosure.py) --------------------------------------
-- The audit of every publication: the attacker's linear programmes over everything readable, the cells
-- hidden for their own sake (primary: fewer than 5 households) and to protect them (secondary), the rounds
-- of suppression it took; a publication that cannot pass is recorded here (passed = false) and not made.
create table if not exists ops.disclosure_audits (
    id               bigserial primary key,
    published_at     timestamptz,                  -- the publication's time (LOWINCOME_PUBLISHED_AT); null: dbt's start
    audited_at       timestamptz not null default now(),
    cells_audited    integer not null,             -- family cells (metric family x geography x year) to publish
    hidden_primary   integer not null,
    hidden_secondary integer not null,
    disclosed_before integer not null default 0,   -- hidden cells an earlier publication already gave away
    rounds           integer not null,             -- audit rounds of the slowest family-year
    passed           boolean not null,
    seconds          numeric not null,
    unprotected      text                          -- the first cell that could not be protected, and why
);
-- The secondary suppression the last passed audit decided (int_metric_values_disclosure_controlled joins it:
-- obs_conf 'D').
create table if not exists ops.disclosure_suppression (
    metric           text not null,
    geography_level  text not null,
    geography_code   text not null,
    year             integer not null,
    primary key (metric, geography_level, geography_code, year)
);
