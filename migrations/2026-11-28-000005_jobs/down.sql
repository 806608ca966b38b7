DROP TABLE case_clock_alerts;
DROP TABLE jobs;
DROP FUNCTION og_worker();
