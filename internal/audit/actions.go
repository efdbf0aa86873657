package audit

// Actions recorded for reads of sensitive data, by every way in (API and
// web pages alike).
const (
	ActionTicketView         = "ticket.view"
	ActionTicketList         = "ticket.list"
	ActionSearch             = "search"
	ActionAttachmentDownload = "attachment.download"
)
