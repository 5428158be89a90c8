package dispatch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
)

var errTooManyRedirects = errors.New("stopped after 10 redirects")

// classify maps a transport error to Hookdeck's attempt error codes
// (OpenAPI AttemptErrorCodes).
func classify(err error) string {
	var (
		dnsErr     *net.DNSError
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
		recordErr  tls.RecordHeaderError
		netErr     net.Error
	)
	switch {
	case errors.Is(err, errTooManyRedirects):
		return "TOO_MANY_REDIRECTS"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "TIMEOUT"
	case errors.Is(err, context.Canceled):
		return "NETWORK_REQUEST_CANCELED"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "CONNECTION_REFUSED"
	case errors.Is(err, syscall.ECONNRESET):
		return "CONNECTION_RESET"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "HOST_UNREACHABLE"
	case errors.Is(err, syscall.ENETUNREACH):
		return "NETWORK_UNREACHABLE"
	case errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "SOCKET_CLOSED"
	case errors.As(err, &dnsErr):
		return "DNS_LOOKUP_FAILED"
	case errors.As(err, &unknownCA):
		return "SELF_SIGNED_CERT"
	case errors.As(err, &hostErr):
		return "ERR_TLS_CERT_ALTNAME_INVALID"
	case errors.As(err, &invalidErr):
		if invalidErr.Reason == x509.Expired {
			return "SSL_CERT_EXPIRED"
		}
		return "UNABLE_TO_GET_ISSUER_CERT"
	case errors.As(err, &recordErr):
		return "ERR_SSL_WRONG_VERSION_NUMBER"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "TIMEOUT"
	case strings.Contains(err.Error(), "malformed HTTP"):
		return "PROTOCOL_ERROR"
	}
	return "NETWORK_ERROR"
}
