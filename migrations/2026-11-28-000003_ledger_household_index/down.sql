DROP INDEX ledger_records_household;
