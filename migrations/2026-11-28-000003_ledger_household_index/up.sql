-- Targeting queries link a resident's ledgers to their household's (e.g. "not
-- on low-income allowance"): EXPLAIN at city scale showed the anti-join
-- scanning every record of the street's household ledger once per candidate.
CREATE INDEX ledger_records_household ON ledger_records (street_id, household_id, ledger_type_id);
