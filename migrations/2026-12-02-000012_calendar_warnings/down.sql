DROP FUNCTION og_calendar_missing(integer);
DROP POLICY district_notices ON notifications;
DROP TABLE calendar_warnings;
