-- Who may do what: technician groups and target (computer) groups, their
-- members, the groups an enrollment token puts its computers in, and the
-- policy given to each pair of a technician group and a target group.
-- Policy bodies are the JSON form of `tether_shared::access_policy::Policy`.
-- The default policy stays in `policies` (kind `session`), now a whole
-- `Policy`; older rows hold its session part and still read.

CREATE TABLE technician_groups (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE target_groups (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE technician_group_members (
    group_id  TEXT NOT NULL REFERENCES technician_groups (id),
    member_id TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (group_id, member_id)
);

CREATE TABLE target_group_members (
    group_id  TEXT NOT NULL REFERENCES target_groups (id),
    member_id TEXT NOT NULL REFERENCES agents (id),
    PRIMARY KEY (group_id, member_id)
);

CREATE INDEX technician_group_members_member ON technician_group_members (member_id);
CREATE INDEX target_group_members_member ON target_group_members (member_id);

CREATE TABLE enrollment_token_groups (
    token_id  TEXT NOT NULL REFERENCES enrollment_tokens (id),
    group_id  TEXT NOT NULL REFERENCES target_groups (id),
    PRIMARY KEY (token_id, group_id)
);

CREATE TABLE policy_assignments (
    id                TEXT PRIMARY KEY,
    technician_group  TEXT NOT NULL REFERENCES technician_groups (id),
    target_group      TEXT NOT NULL REFERENCES target_groups (id),
    body              TEXT NOT NULL,
    updated_by        TEXT NOT NULL REFERENCES users (id),
    updated_at        BIGINT NOT NULL,
    UNIQUE (technician_group, target_group)
);

-- The administrator's name for a computer, kept apart from the host name
-- its agent reports; NULL shows the host name.
ALTER TABLE agents ADD COLUMN display_name TEXT;
