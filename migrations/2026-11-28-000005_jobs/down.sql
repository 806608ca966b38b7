DROP TABLE jobs;
DROP FUNCTION og_worker();
