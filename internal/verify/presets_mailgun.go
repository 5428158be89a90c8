package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
)

// mailgunSignature is the signature object Mailgun posts with each webhook.
type mailgunSignature struct {
	Timestamp flexString `json:"timestamp"`
	Token     string     `json:"token"`
	Signature string     `json:"signature"`
	// Parent is sent for a subaccount's events, signed with the primary
	// account's key.
	Parent string `json:"parent-signature"`
}

// flexString reads a JSON string or number as its text.
type flexString string

// UnmarshalJSON accepts "123" and 123 alike.
func (f *flexString) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = flexString(n)
	return nil
}

// checkMailgun follows Mailgun's "Securing webhooks" (documentation.mailgun.
// com/docs/mailgun/user-manual/webhooks/securing-webhooks): the request
// carries {timestamp, token, signature} (JSON webhooks: the "signature"
// object of the body; legacy webhooks and routes: form fields), and signature
// is hex(HMAC-SHA256(webhook signing key, timestamp + token)). For a
// subaccount, parent-signature is the same HMAC under the primary account's
// key; either passes. Mailgun documents no timestamp tolerance (it suggests
// caching tokens), so none is applied.
func checkMailgun(auth map[string]string, in Input) error {
	s, err := mailgunFields(in)
	if err != nil {
		return err
	}
	if s.Timestamp == "" || s.Token == "" || (s.Signature == "" && s.Parent == "") {
		return fail("the body has no Mailgun signature (timestamp, token, signature)")
	}
	want := hmacSHA256(auth["webhook_secret_key"], []byte(s.Timestamp), []byte(s.Token))
	// Evaluate both so timing does not tell which one matched.
	okSig := hexEqual(s.Signature, want)
	okParent := hexEqual(s.Parent, want)
	if !okSig && !okParent {
		return fail("the Mailgun signature does not match its timestamp and token")
	}
	return nil
}

// mailgunFields extracts the signature fields from a JSON, URL-encoded or
// multipart body.
func mailgunFields(in Input) (mailgunSignature, error) {
	mt, params := in.mediaType()
	switch mt {
	case "application/x-www-form-urlencoded":
		f := formValues(in.Body)
		return mailgunSignature{Timestamp: flexString(f.Get("timestamp")), Token: f.Get("token"),
			Signature: f.Get("signature"), Parent: f.Get("parent-signature")}, nil
	case "multipart/form-data":
		return mailgunMultipart(in.Body, params["boundary"])
	}
	var body struct {
		Signature mailgunSignature `json:"signature"`
	}
	if err := json.Unmarshal(in.Body, &body); err != nil {
		return mailgunSignature{}, fail("the body is not a Mailgun JSON webhook: %v", err)
	}
	return body.Signature, nil
}

// mailgunFieldLimit bounds how much of one signature field is read.
const mailgunFieldLimit = 1 << 10

func mailgunMultipart(body []byte, boundary string) (mailgunSignature, error) {
	var s mailgunSignature
	if boundary == "" {
		return s, fail("multipart body without a boundary")
	}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			return s, nil
		}
		if err != nil {
			return s, fail("multipart body: %v", err)
		}
		var dst *string
		switch p.FormName() {
		case "timestamp":
			dst = (*string)(&s.Timestamp)
		case "token":
			dst = &s.Token
		case "signature":
			dst = &s.Signature
		case "parent-signature":
			dst = &s.Parent
		}
		if dst != nil && p.FileName() == "" {
			v, err := io.ReadAll(io.LimitReader(p, mailgunFieldLimit))
			if err != nil {
				return s, fail("multipart body: %v", err)
			}
			*dst = string(v)
		}
	}
}
