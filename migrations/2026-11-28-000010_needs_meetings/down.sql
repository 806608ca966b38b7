DROP TABLE report_back_ratings;
DROP TABLE meeting_attendees;
DROP TABLE member_units;
DROP TABLE meeting_items;
DROP TABLE meeting_agenda_items;
DROP TABLE needs_meetings;
ALTER TABLE schedules DROP COLUMN lead_minutes;
