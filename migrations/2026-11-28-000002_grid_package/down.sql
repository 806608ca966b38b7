DROP TABLE audit_log, notifications, saved_queries, break_glass_grants, ledger_record_versions, ledger_records, ledger_types,
    resident_moves, residents, households, dwellings, units, buildings;
DROP FUNCTION og_audit_append_only();
