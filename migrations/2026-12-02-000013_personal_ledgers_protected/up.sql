-- Built-in ledgers about a person or household are protected by default
-- (PIPL's minimum necessary: read in one's own grids, break-glass elsewhere).
-- Types still at their earlier built-in default move; nothing else does.
UPDATE ledger_types
   SET sensitivity = 'protected', version = version + 1, updated_at = now()
 WHERE built_in
   AND (code, sensitivity) IN (('party_members', 'open'), ('veterans', 'audited'),
                               ('dogs', 'open'), ('elderly_alone', 'audited'));
