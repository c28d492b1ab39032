-- ccip:oldest-compatible-code 1
-- Who besides the applicant and staff may read an application: the experts
-- and agencies evaluation assigned to its case (issue 14, item 6). One row
-- per review or investigation, from evaluation.assignment.started.v1 to
-- .ended.v1 or the final decision (intake_readers.h). Numbered 0003: branch
-- casefile adds intake's 0002. Expand only: code of version 1 never reads it.
CREATE TABLE reader (
    task_id uuid PRIMARY KEY,                              -- evaluation's review or investigation
    application_id uuid NOT NULL REFERENCES application (id),
    case_id uuid NOT NULL,                                 -- evaluation's case
    actor_id text COLLATE "C" NOT NULL,                    -- "expert:<id>" or "agency:<id>"
    started_at timestamptz NOT NULL DEFAULT now(),
    ended_at timestamptz,                                  -- NULL while it may read
    end_reason text NOT NULL DEFAULT ''
);
CREATE INDEX reader_live ON reader (application_id, actor_id) WHERE ended_at IS NULL;
