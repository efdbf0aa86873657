package api

import (
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/department"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/ticket"
)

// The JSON shapes of the API. Times are RFC 3339 in UTC; absent times and
// ids are null.

type ticketView struct {
	ID              int64      `json:"id"`
	Subject         string     `json:"subject"`
	Status          string     `json:"status"`
	Priority        string     `json:"priority"`
	Channel         string     `json:"channel"`
	DepartmentID    int64      `json:"department_id"`
	AssigneeID      *int64     `json:"assignee_id"`
	CustomerID      int64      `json:"customer_id"`
	OrganizationID  *int64     `json:"organization_id"`
	Tags            []string   `json:"tags"`
	SubjectMasked   []string   `json:"subject_masked"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	FirstResponseAt *time.Time `json:"first_response_at"`
	SolvedAt        *time.Time `json:"solved_at"`
	ClosedAt        *time.Time `json:"closed_at"`
}

func optID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func viewTicket(t ticket.Ticket) ticketView {
	tags := t.Tags
	if tags == nil {
		tags = []string{}
	}
	return ticketView{
		ID: t.Number, Subject: t.Subject, Status: string(t.Status), Priority: string(t.Priority), Channel: t.Channel,
		DepartmentID: t.DepartmentID, AssigneeID: optID(t.AssigneeID), CustomerID: t.CustomerID,
		OrganizationID: optID(t.OrganizationID), Tags: tags, SubjectMasked: orEmpty(t.SubjectMasked), CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt,
		FirstResponseAt: optTime(t.FirstResponseAt), SolvedAt: optTime(t.SolvedAt), ClosedAt: optTime(t.ClosedAt),
	}
}

type ticketPage struct {
	Data       []ticketView `json:"data"`
	NextCursor *string      `json:"next_cursor"`
}

func viewTicketPage(p ticket.Page) ticketPage {
	out := ticketPage{Data: make([]ticketView, len(p.Tickets))}
	for i, t := range p.Tickets {
		out.Data[i] = viewTicket(t)
	}
	if p.NextCursor != "" {
		out.NextCursor = &p.NextCursor
	}
	return out
}

type authorView struct {
	Type string `json:"type"`
	ID   int64  `json:"id"`
}

type messageView struct {
	ID     int64      `json:"id"`
	Kind   string     `json:"kind"`
	Author authorView `json:"author"`
	Body   string     `json:"body"`
	// BodyHTML is the sanitized markup of a message that came formatted.
	BodyHTML  *string   `json:"body_html"`
	Masked    []string  `json:"masked"`
	CreatedAt time.Time `json:"created_at"`
	// BlockedImages is answered only when the message is added.
	BlockedImages *int `json:"blocked_images,omitempty"`
}

func viewMessage(m ticket.Message) messageView {
	v := messageView{ID: m.ID, Kind: string(m.Kind), Author: authorView{m.AuthorType, m.AuthorID}, Body: m.Body,
		Masked: orEmpty(m.Masked), CreatedAt: m.CreatedAt}
	if m.HTML != "" {
		v.BodyHTML = &m.HTML
	}
	return v
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type eventView struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind"`
	Actor     authorView `json:"actor"`
	Old       string     `json:"old"`
	New       string     `json:"new"`
	CreatedAt time.Time  `json:"created_at"`
}

func viewEvent(e ticket.Event) eventView {
	return eventView{ID: e.ID, Kind: e.Kind, Actor: authorView{e.ActorType, e.ActorID}, Old: e.OldValue, New: e.NewValue, CreatedAt: e.CreatedAt}
}

type customerView struct {
	ID             int64     `json:"id"`
	Email          string    `json:"email"`
	Name           string    `json:"name"`
	Phone          string    `json:"phone"`
	OrganizationID *int64    `json:"organization_id"`
	OrgAccess      bool      `json:"organization_access"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func viewCustomer(c customer.Customer) customerView {
	return customerView{ID: c.ID, Email: c.Email, Name: c.Name, Phone: c.Phone, OrganizationID: optID(c.OrganizationID),
		OrgAccess: c.OrgAccess, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

type organizationView struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

type departmentView struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Members   []int64   `json:"members"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func viewDepartment(d department.Department) departmentView {
	members := d.Members
	if members == nil {
		members = []int64{}
	}
	return departmentView{ID: d.ID, Name: d.Name, Members: members, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

type userView struct {
	ID          int64               `json:"id"`
	Email       string              `json:"email"`
	Name        string              `json:"name"`
	Role        string              `json:"role"`
	Permissions []access.Permission `json:"permissions"`
	Departments []int64             `json:"departments"`
	Disabled    bool                `json:"disabled"`
	Locale      string              `json:"locale"`
	CreatedAt   time.Time           `json:"created_at"`
	UpdatedAt   time.Time           `json:"updated_at"`
}

func viewUser(u identity.User) userView {
	depts := u.Departments
	if depts == nil {
		depts = []int64{}
	}
	return userView{ID: u.ID, Email: u.Email, Name: u.Name, Role: string(u.Role), Permissions: access.PermissionsOf(u.Role),
		Departments: depts, Disabled: u.Disabled, Locale: u.Locale, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

type tokenView struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	UserID     *int64     `json:"user_id"`
	CustomerID *int64     `json:"customer_id"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	Revoked    bool       `json:"revoked"`
	// Permissions is null for a token with all of its owner's rights.
	Permissions []access.Permission `json:"permissions"`
	// Token is the secret, present only in the response that created it.
	Token string `json:"token,omitempty"`
}

func viewToken(t identity.Token) tokenView {
	return tokenView{ID: t.ID, Name: t.Name, Prefix: t.Prefix, UserID: optID(t.UserID), CustomerID: optID(t.CustomerID),
		CreatedAt: t.CreatedAt, LastUsedAt: optTime(t.LastUsedAt), ExpiresAt: optTime(t.ExpiresAt), Revoked: t.Revoked,
		Permissions: t.Permissions}
}

type list[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

// pageOf renders items fetched with limit+1 as one page: when the extra
// item came back, another page follows, and its cursor is the id of the
// last item shown.
func pageOf[T, V any](items []T, limit int, id func(T) int64, view func(T) V) list[V] {
	out := list[V]{Data: []V{}}
	for i, it := range items {
		if i == limit {
			c := itoa(id(items[i-1]))
			out.NextCursor = &c
			break
		}
		out.Data = append(out.Data, view(it))
	}
	return out
}
