package classify

import (
	"encoding/json"
	"strings"
)

// sesNotification is the JSON body of an Amazon SES event notification
// delivered by SNS e-mail ("AWS Notification Message").
type sesNotification struct {
	Message          string `json:"Message"` // SNS envelope
	NotificationType string `json:"notificationType"`
	EventType        string `json:"eventType"`
	Bounce           struct {
		BounceType        string `json:"bounceType"`
		BouncedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Action         string `json:"action"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
		ReportingMTA string `json:"reportingMTA"`
	} `json:"bounce"`
	Complaint struct {
		ComplainedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
		ComplaintFeedbackType string `json:"complaintFeedbackType"`
	} `json:"complaint"`
	Delivery struct {
		Recipients   []string `json:"recipients"`
		SMTPResponse string   `json:"smtpResponse"`
	} `json:"delivery"`
	Mail struct {
		MessageID     string `json:"messageId"`
		CommonHeaders struct {
			MessageID string `json:"messageId"`
		} `json:"commonHeaders"`
	} `json:"mail"`
}

// sesReport reads an Amazon SES notification (Bounce, Complaint or
// Delivery). It returns false when the body is not one.
func sesReport(p *parsed, rep *Report) bool {
	body := strings.TrimSpace(p.bodyText())
	if !strings.HasPrefix(body, "{") || !strings.Contains(body, "notificationType") && !strings.Contains(body, "eventType") {
		return false
	}
	// SNS appends an unsubscribe footer after the JSON object.
	if i := strings.Index(body, "\n--\n"); i > 0 {
		body = body[:i]
	}
	// Mail gateways fold the long JSON line; JSON strings hold no newlines.
	body = strings.ReplaceAll(body, "\n", "")
	var n sesNotification
	if err := json.NewDecoder(strings.NewReader(body)).Decode(&n); err != nil {
		return false
	}
	env := n
	if n.NotificationType == "" && n.EventType == "" && n.Message != "" {
		// The SNS envelope carries the SES event as a JSON string.
		n = sesNotification{}
		if err := json.Unmarshal([]byte(env.Message), &n); err != nil {
			return false
		}
	}
	kind := n.NotificationType
	if kind == "" {
		kind = n.EventType
	}
	rep.Format = "amazonses"
	rep.OriginalMessageID = n.Mail.CommonHeaders.MessageID
	switch kind {
	case "Bounce":
		for _, b := range n.Bounce.BouncedRecipients {
			r := Recipient{Address: b.EmailAddress, Action: b.Action, Diagnostic: b.DiagnosticCode, RemoteMTA: n.Bounce.ReportingMTA}
			r.Status = diagStatus(b.DiagnosticCode)
			if r.Status == "" {
				r.Status = b.Status
			}
			if r.Status == "" {
				r.Status = defaultStatus(b.DiagnosticCode, n.Bounce.BounceType == "Transient")
			}
			p.dc.reset()
			r.Reason = decideReason(p.dc, b.DiagnosticCode, r.Status, smtpCommand(b.DiagnosticCode))
			p.dc.finish(&r)
			if r.Action == "" {
				r.Action = "failed"
			}
			rep.Recipients = append(rep.Recipients, r)
		}
	case "Complaint":
		rep.FeedbackType = n.Complaint.ComplaintFeedbackType
		if rep.FeedbackType == "" {
			rep.FeedbackType = "abuse"
		}
		for _, c := range n.Complaint.ComplainedRecipients {
			rep.Recipients = append(rep.Recipients, Recipient{Address: c.EmailAddress, Class: Complaint, Reason: ReasonFeedback, Action: "failed",
				Why: "class complaint: Amazon SES Complaint notification, feedback type " + rep.FeedbackType})
		}
	case "Delivery":
		for _, a := range n.Delivery.Recipients {
			st := diagStatus(n.Delivery.SMTPResponse)
			if st == "" {
				st = "2.0.0"
			}
			rep.Recipients = append(rep.Recipients, Recipient{Address: a, Class: Delivered, Reason: ReasonDelivered,
				Action: "delivered", Status: st, Diagnostic: n.Delivery.SMTPResponse,
				Why: "class delivered: Amazon SES Delivery notification"})
		}
	default:
		return false
	}
	return true
}
