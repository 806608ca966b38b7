DROP TABLE case_attachments, case_appointments, appointment_slots, case_routes, case_ratings, case_reporters, case_links, case_clocks, case_events, cases, case_categories, sla_tiers, calendar_days;
DROP SEQUENCE case_numbers;
DROP FUNCTION og_case_events_append_only(), og_departments(), og_department_only();
