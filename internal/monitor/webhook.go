package monitor

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/hesar/hesar/internal/db"
)

// Webhook headers.
const (
	HeaderSignature = "X-Hesar-Signature"
	HeaderTimestamp = "X-Hesar-Timestamp"
	HeaderDelivery  = "X-Hesar-Delivery"
	maxAttempts     = 10
	deliveryBatch   = 16
)

// WebhookPayload is the JSON body a webhook receives: ids and sentences,
// no addresses or names.
type WebhookPayload struct {
	Event       string    `json:"event"` // "alert.opened"
	WorkspaceID int64     `json:"workspace_id"`
	AlertID     int64     `json:"alert_id"`
	Rule        string    `json:"rule"`
	Severity    string    `json:"severity"`
	Title       string    `json:"title"`
	Explanation string    `json:"explanation"`
	AccountKind string    `json:"account_kind,omitempty"`
	AccountID   int64     `json:"account_id,omitempty"`
	At          time.Time `json:"at"`
}

// Sign returns the X-Hesar-Signature value of body sent at timestamp
// (Unix seconds): "sha256=" and the hex HMAC-SHA256, under secret, of
// the timestamp, a dot and the body.
func Sign(secret string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify is what a receiver does: the signature matches and the
// timestamp is within tolerance of now (which stops replays).
func Verify(secret, signature, timestamp string, body []byte, now time.Time, tolerance time.Duration) bool {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return false
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return false
	}
	return hmac.Equal([]byte(signature), []byte(Sign(secret, ts, body)))
}

func (m *Monitor) queueWebhook(ctx context.Context, tx *db.Tx, ws int64, a Alert) error {
	body, err := json.Marshal(WebhookPayload{Event: "alert.opened", WorkspaceID: ws, AlertID: a.ID, Rule: a.Rule, Severity: a.Severity,
		Title: a.Title, Explanation: a.Explanation, AccountKind: string(a.AccountKind), AccountID: a.AccountID, At: a.FirstSeen.UTC()})
	if err != nil {
		return err
	}
	id, err := m.o.DB.IDs().NextIn(ctx, tx)
	if err != nil {
		return err
	}
	now := m.o.Now().UnixMicro()
	_, err = tx.ExecContext(ctx, `INSERT INTO monitor_deliveries (id, workspace_id, alert_id, payload, state, next_attempt_at, created_at)
		VALUES ($1, $2, $3, $4, 'pending', $5, $5)`, id, ws, a.ID, string(body), now)
	return err
}

type delivery struct {
	id, ws   int64
	payload  string
	attempts int
}

const claimDeliveries = `UPDATE monitor_deliveries SET lease_until = $1, attempts = attempts + 1
	WHERE id IN (SELECT id FROM monitor_deliveries WHERE state = 'pending' AND next_attempt_at <= $2 AND lease_until <= $2
		ORDER BY next_attempt_at, id LIMIT $3%s)
	RETURNING id, workspace_id, payload, attempts`

// DeliverDue sends the webhooks that are due and reports how many
// succeeded. A failed send is retried with backoff, up to 10 attempts.
func (m *Monitor) DeliverDue(ctx context.Context) (int, error) {
	now := m.o.Now()
	// The lease is also this claim's token: results only apply while the
	// row is still ours.
	lease := now.Add(time.Duration(deliveryBatch+2)*15*time.Second).UnixMicro() + now.UnixNano()%1000
	suffix := ""
	if m.o.DB.Dialect() == db.Postgres {
		suffix = " FOR UPDATE SKIP LOCKED"
	}
	var due []delivery
	err := m.o.DB.Write(ctx, func(tx *db.Tx) error {
		due = due[:0]
		rows, err := tx.QueryContext(ctx, fmt.Sprintf(claimDeliveries, suffix), lease, now.UnixMicro(), deliveryBatch)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d delivery
			if err := rows.Scan(&d.id, &d.ws, &d.payload, &d.attempts); err != nil {
				return err
			}
			due = append(due, d)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	sent := 0
	for _, d := range due {
		sendErr := m.send(ctx, d)
		state, next, msg := "sent", int64(0), ""
		if sendErr != nil {
			msg = truncate(sendErr.Error(), 300)
			state, next = "pending", m.o.Now().Add(m.o.Backoff(d.attempts)).UnixMicro()
			if d.attempts >= maxAttempts {
				state = "failed"
			}
			m.o.Log.Warn("monitor: webhook delivery failed", "delivery_id", d.id, "attempt", d.attempts, "err", msg)
		} else {
			sent++
		}
		err := m.o.DB.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE monitor_deliveries SET state = $1, next_attempt_at = $2, last_error = $3, lease_until = 0,
				sent_at = CASE WHEN $1 = 'sent' THEN $4 ELSE sent_at END WHERE id = $5 AND lease_until = $6`,
				state, next, msg, m.o.Now().UnixMicro(), d.id, lease)
			return err
		})
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

func (m *Monitor) send(ctx context.Context, d delivery) error {
	s, err := m.settingsWithSecret(ctx, d.ws)
	if err != nil {
		return err
	}
	if s.WebhookURL == "" {
		return errors.New("no webhook URL is set any more")
	}
	if err := checkWebhookURL(s.WebhookURL); err != nil {
		return err
	}
	ts := m.o.Now().Unix()
	body := []byte(d.payload)
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Hesar-Webhook/1")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(s.WebhookSecret, ts, body))
	req.Header.Set(HeaderDelivery, strconv.FormatInt(d.id, 10))
	resp, err := m.o.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return nil
}

func defaultBackoff(n int) time.Duration {
	d := 30 * time.Second << min(n-1, 10)
	return min(d, 6*time.Hour)
}

// webhookClient refuses redirects (a receiver could bounce the request
// inward) and, unless allowed, connections to this host's and private
// networks.
func webhookClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	if !allowPrivate {
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip := net.ParseIP(host)
			if ip == nil || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() || ip.IsLinkLocalMulticast() {
				return fmt.Errorf("webhook to %s refused: not a public address", host)
			}
			return nil
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = dialer.DialContext
	tr.Proxy = nil
	return &http.Client{Transport: tr, Timeout: 15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
