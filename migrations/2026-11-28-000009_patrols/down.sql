DELETE FROM case_links WHERE subject_type = 'patrol_finding';
ALTER TABLE case_links DROP CONSTRAINT case_links_subject_type_check;
ALTER TABLE case_links ADD CONSTRAINT case_links_subject_type_check
    CHECK (subject_type IN ('resident', 'household', 'ledger_record'));
DROP TABLE patrol_missing;
DROP TABLE patrol_photos;
DROP TABLE patrol_findings;
DROP TABLE patrol_visits;
DROP TABLE patrol_logs;
