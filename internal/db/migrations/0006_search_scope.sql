-- Search walks one word's postings in ticket-id order and must learn, for
-- each ticket it meets, whether the caller may open it. Most of them the
-- caller may not (other departments), and reading the whole ticket row to
-- find that out was most of a search's time. This index answers it on its
-- own (an index-only lookup), at the cost of one more small index entry
-- per ticket written, not one per posting.
CREATE INDEX tickets_search_scope ON tickets (id, workspace_id, department_id);
