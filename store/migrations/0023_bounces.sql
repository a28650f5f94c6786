-- 0023 (bounces): a page of bounces walks them newest first and stops
-- after the page (issue 19). bounces_received serves the unfiltered
-- listing's order (the list and class filters have their own indexes);
-- bounces_delivery finds the other reports of a failed delivery, one
-- lookup per listed row, where List used to group every matching report.
CREATE INDEX bounces_received ON bounces (received);
CREATE INDEX bounces_delivery ON bounces (delivery_id) WHERE delivery_id IS NOT NULL;
