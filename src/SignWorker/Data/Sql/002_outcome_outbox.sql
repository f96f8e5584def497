-- The outbox of outcome events (edge_sign_success / edge_sign_failure), PostgreSQL. Applied by the EF Core migration
-- OutcomeOutbox. A row is written by the same statement that records a result (SignResultStore.CompleteManyAsync)
-- and deleted once the broker confirmed the event's publish; a row still here after a few seconds (the broker went
-- away between the two) is published again by OutcomeOutbox. The audit store keeps one row per event id, so a
-- second publish is harmless. Rows live seconds, so the table stays small and is not partitioned.

CREATE TABLE signer.outcome_outbox (
    request_id uuid NOT NULL,
    completed_at timestamp with time zone NOT NULL,
    log jsonb NOT NULL,
    CONSTRAINT pk_outcome_outbox PRIMARY KEY (request_id)
);
CREATE INDEX ix_outcome_outbox_completed_at ON signer.outcome_outbox (completed_at);
COMMENT ON TABLE signer.outcome_outbox IS 'Outcome events recorded but not yet confirmed by the broker; the log is the event''s EdgeSignerLog.';
