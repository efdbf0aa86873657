package audit

// Actions recorded for reads of sensitive data, by every way in (API and
// web pages alike).
const (
	ActionTicketView         = "ticket.view"
	ActionTicketList         = "ticket.list"
	ActionSearch             = "search"
	ActionAttachmentDownload = "attachment.download"
	ActionDashboardView      = "security.dashboard.view"
	ActionAuditExport        = "audit.export"
	// ActionAlertPrefix is followed by the alert's new state.
	ActionAlertPrefix = "alert."
)
