-- The county submission portal (lowincome.portal): accounts, what was checked and decided, the audit log
-- and the province's reminders. Idempotent: run by the portal (and portal-user) at every start.
-- No personal data here: a user is a login name and a county; a file is its name, checksum and counts.

create table if not exists ops.portal_users (
    id              bigserial primary key,
    username        text not null unique check (username ~ '^[A-Za-z0-9_.-]{2,64}$'),
    password_hash   text not null,            -- argon2id (argon2-cffi), never the password
    county_code     text check (county_code ~ '^[0-9]{6}$'),   -- a clerk's county; null for the province
    is_province     boolean not null default false,
    created_at      timestamptz not null default now(),
    disabled        boolean not null default false,
    constraint portal_user_kind check (is_province <> (county_code is not null))
);

create table if not exists ops.portal_login_failures (
    username        text not null,            -- a digest of the name typed (accounts._digest)
    client          text not null,            -- a digest of the client address (accounts._digest)
    failed_at       timestamptz not null default now()
);
create index if not exists portal_login_failures_at on ops.portal_login_failures (failed_at);

-- A file checked in the portal (审核): staged under $DATA/portal/uploads/<token>/, never served back.
create table if not exists ops.portal_uploads (
    id              bigserial primary key,
    token           text not null unique,
    user_id         bigint not null references ops.portal_users (id),
    county_code     text not null,
    file_name       text not null,            -- the sanitised name it is checked and submitted under
    sha256          char(64) not null,
    size_bytes      bigint not null,
    template        text,
    year            smallint,
    rows_read       integer not null default 0,
    verdict         text not null check (verdict in ('loaded', 'rejected', 'duplicate')),
    warnings        integer not null default 0,
    summary         text not null,
    findings        jsonb not null default '[]'::jsonb,   -- the lines of the feedback the night would write
    explanation     text,
    state           text not null default 'checked' check (state in ('checked', 'withdrawn', 'submitted')),
    checked_at      timestamptz not null default now(),
    decided_at      timestamptz
);
create index if not exists portal_uploads_county on ops.portal_uploads (county_code, template, year);

-- Who did what, when (no personal data: no file content, no password, no client address).
create table if not exists ops.portal_actions (
    id              bigserial primary key,
    at              timestamptz not null default now(),
    username        text,
    county_code     text,
    action          text not null,
    object          text,
    outcome         text not null
);

-- 催报: the province chased a county for its missing files.
create table if not exists ops.portal_reminders (
    id              bigserial primary key,
    at              timestamptz not null default now(),
    county_code     text not null check (county_code ~ '^[0-9]{6}$'),
    username        text not null,            -- the provincial user who chased
    what            text not null,            -- the files chased (template:year, ...)
    note            text
);
create index if not exists portal_reminders_county on ops.portal_reminders (county_code, at);
