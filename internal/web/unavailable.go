package web

import (
	"database/sql/driver"
	"errors"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// IsUnavailable reports whether err means the database cannot be reached now:
// a 503 that clients retry, not a 500 (see [WriteInternal]).
func IsUnavailable(err error) bool { return isUnavailable(err) }

// isUnavailable reports whether err means the database cannot be reached now
// (a restart, a network fault), as opposed to a bug: the first is a 503 that
// clients retry, the second a 500.
func isUnavailable(err error) bool {
	var (
		ne net.Error
		pe *pgconn.PgError
		ce *pgconn.ConnectError
	)
	switch {
	case errors.As(err, &ce), errors.As(err, &ne),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	case errors.As(err, &pe):
		// Class 08: connection exception; 57P01-03: admin shutdown, crash shutdown, cannot connect now.
		return pe.Code[:2] == "08" || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	return pgconn.SafeToRetry(err) || errors.Is(err, driver.ErrBadConn)
}
