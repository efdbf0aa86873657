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

// Actions recorded for changes of a workspace's data-protection settings
// (attachment.SetDataProtection), each with the new values and, under
// "<name>_from", the ones they replaced.
const (
	ActionMaskingPolicyChanged    = "masking_policy.changed"
	ActionAttachmentPolicyChanged = "attachment_policy.changed"
)
