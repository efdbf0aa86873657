-- A reveal shows either the original of masked text (a subject or a
-- message: the rows so far) or a customer's whole contact details from a
-- ticket's page. Both name a reason, sealed, and both are kept here so
-- one place answers "who saw what, when and why" for a ticket.
ALTER TABLE reveals ADD COLUMN target TEXT NOT NULL DEFAULT 'text';
