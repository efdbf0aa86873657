-- Messages that arrived as HTML (mail, or an integration posting formatted
-- text) keep their sanitized markup, sealed like the body and masked the
-- same way, beside the plain text that search and masking work on. NULL
-- for messages written as plain text.
ALTER TABLE messages ADD COLUMN body_html_enc {{.Blob}};
