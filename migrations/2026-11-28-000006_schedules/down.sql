DROP TRIGGER jobs_queued ON jobs;
DROP FUNCTION og_jobs_queued();
DROP INDEX ledger_records_verified;
DROP TABLE ledger_stale_digests;
DROP TABLE schedule_fires;
DROP TABLE schedules;
