UPDATE ledger_types
   SET sensitivity = CASE code WHEN 'veterans' THEN 'audited' WHEN 'elderly_alone' THEN 'audited' ELSE 'open' END,
       version = version + 1, updated_at = now()
 WHERE built_in AND sensitivity = 'protected'
   AND code IN ('party_members', 'veterans', 'dogs', 'elderly_alone');
