-- Queue orders besides last activity (ticket.Order). As with the indexes
-- of 0001, a page of each order is a range read of one of these, in either
-- direction, that stops after the page: no sort, no count over the table.
--
-- By creation (created, created_asc): the same three ways into the queue
-- as the order by activity (department and status, status across all
-- departments, assignee), ending in (created_at, id).
CREATE INDEX tickets_dept_status_created ON tickets (workspace_id, department_id, status, created_at, id);
CREATE INDEX tickets_status_created ON tickets (workspace_id, status, created_at, id);
CREATE INDEX tickets_assignee_created ON tickets (workspace_id, assignee_id, created_at, id);
-- By priority (urgent first, then most recently updated): the list reads
-- one priority at a time, most urgent first, so the priority is an
-- equality in each read and the stored text serves as it is; no rank
-- column or expression (both databases would have to agree on it) is
-- needed. These also let a queue badge count one priority from the index.
CREATE INDEX tickets_dept_status_priority ON tickets (workspace_id, department_id, status, priority, updated_at, id);
CREATE INDEX tickets_status_priority ON tickets (workspace_id, status, priority, updated_at, id);
CREATE INDEX tickets_assignee_priority ON tickets (workspace_id, assignee_id, priority, updated_at, id);
