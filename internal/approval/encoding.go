// Package approval defines what the MitID app is asked to approve: who asks,
// what for, from where, until when. The server and the app agree on one
// canonical encoding of a request; the app shows what it decoded from those
// exact bytes and signs them with its device key, so what the person saw is
// what the server verifies.
package approval

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Kind says what an approval is for.
type Kind string

const (
	KindLogin   Kind = "login"   // log in to a service provider
	KindSign    Kind = "sign"    // sign a document
	KindWitness Kind = "witness" // vouch for a person enrolled in person
	KindCopy    Kind = "copy"    // copy the app to a new phone
	KindConsent Kind = "consent" // a guardian's consent for a minor's enrolment
)

func (k Kind) valid() bool {
	switch k {
	case KindLogin, KindSign, KindWitness, KindCopy, KindConsent:
		return true
	}
	return false
}

// Request is an approval request as the app sees it.
type Request struct {
	ID            string // random, 22 characters
	Identity      string // the identity asked (UUID)
	Kind          Kind
	ClientName    string // who asks: the service provider's display name
	ReferenceText string // the service provider's text for the person (≤ 130 characters)
	ActionText    string // LOG_ON, APPROVE, CONFIRM, ACCEPT, SIGN
	Title         string // for KindSign: the document's title; otherwise what is approved
	Fingerprint   string // for KindSign: the document's fingerprint as shown
	Location      string // coarse place of the browser ("Denmark", "127.0.0.1" in tests)
	Browser       string // the browser, as its user agent names itself in short
	CreatedAt     time.Time
	ExpiresAt     time.Time
	Nonce         []byte // 16 random bytes: no two requests encode alike
}

// Limits of the encoding. The server refuses to make a request beyond them and
// the app refuses to decode one.
const (
	MaxField   = 1024 // bytes in one text field
	MaxEncoded = 8 << 10
	NonceSize  = 16
	magic      = "OMIDAPR1"
)

// Field tags, in the order they must appear.
const (
	tagID byte = iota + 1
	tagIdentity
	tagKind
	tagClientName
	tagReferenceText
	tagActionText
	tagTitle
	tagFingerprint
	tagLocation
	tagBrowser
	tagCreatedAt
	tagExpiresAt
	tagNonce
	tagEnd // one past the last
)

var (
	// ErrMalformed is returned by [Decode] for bytes that are not a canonical request.
	ErrMalformed = errors.New("approval: malformed request encoding")
	// ErrInvalid is returned by [Encode] for a request it may not encode.
	ErrInvalid = errors.New("approval: invalid request")
)

func (r *Request) strings() [][2]any {
	return [][2]any{
		{tagID, r.ID}, {tagIdentity, r.Identity}, {tagKind, string(r.Kind)}, {tagClientName, r.ClientName},
		{tagReferenceText, r.ReferenceText}, {tagActionText, r.ActionText}, {tagTitle, r.Title},
		{tagFingerprint, r.Fingerprint}, {tagLocation, r.Location}, {tagBrowser, r.Browser},
	}
}

// Encode returns the canonical encoding: the magic "OMIDAPR1", then every field
// once, in tag order, as tag (1 byte), length (uvarint) and value; times as
// 8-byte big-endian Unix seconds. It refuses invalid UTF-8, fields over
// [MaxField] bytes, an unknown kind, a nonce not of [NonceSize] bytes, and an
// expiry not after the creation.
func Encode(r Request) ([]byte, error) {
	if !r.Kind.valid() {
		return nil, fmt.Errorf("%w: kind %q", ErrInvalid, r.Kind)
	}
	if r.ID == "" || r.Identity == "" {
		return nil, fmt.Errorf("%w: no id or identity", ErrInvalid)
	}
	if len(r.Nonce) != NonceSize {
		return nil, fmt.Errorf("%w: nonce of %d bytes, want %d", ErrInvalid, len(r.Nonce), NonceSize)
	}
	if !r.ExpiresAt.After(r.CreatedAt) {
		return nil, fmt.Errorf("%w: expires %v, not after created %v", ErrInvalid, r.ExpiresAt, r.CreatedAt)
	}
	b := make([]byte, 0, 512)
	b = append(b, magic...)
	for _, f := range r.strings() {
		tag, s := f[0].(byte), f[1].(string)
		if len(s) > MaxField || !utf8.ValidString(s) {
			return nil, fmt.Errorf("%w: field %d is not UTF-8 of at most %d bytes", ErrInvalid, tag, MaxField)
		}
		b = appendField(b, tag, []byte(s))
	}
	b = appendField(b, tagCreatedAt, binary.BigEndian.AppendUint64(nil, uint64(r.CreatedAt.Unix())))
	b = appendField(b, tagExpiresAt, binary.BigEndian.AppendUint64(nil, uint64(r.ExpiresAt.Unix())))
	b = appendField(b, tagNonce, r.Nonce)
	if len(b) > MaxEncoded {
		return nil, fmt.Errorf("%w: %d bytes encoded, at most %d", ErrInvalid, len(b), MaxEncoded)
	}
	return b, nil
}

func appendField(b []byte, tag byte, v []byte) []byte {
	b = append(b, tag)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// Decode parses a canonical encoding. It accepts exactly what [Encode]
// produces: the magic, every field once in order with its shortest length
// encoding, valid UTF-8, the limits, and nothing after the last field.
func Decode(b []byte) (Request, error) {
	if len(b) > MaxEncoded {
		return Request{}, fmt.Errorf("%w: %d bytes, at most %d", ErrMalformed, len(b), MaxEncoded)
	}
	if !bytes.HasPrefix(b, []byte(magic)) {
		return Request{}, fmt.Errorf("%w: no %q header", ErrMalformed, magic)
	}
	rest := b[len(magic):]
	var (
		r      Request
		fields [tagEnd][]byte
	)
	for tag := byte(1); tag < tagEnd; tag++ {
		if len(rest) == 0 {
			return Request{}, fmt.Errorf("%w: ends before field %d", ErrMalformed, tag)
		}
		if rest[0] != tag {
			return Request{}, fmt.Errorf("%w: field %d where %d belongs", ErrMalformed, rest[0], tag)
		}
		n, w := binary.Uvarint(rest[1:])
		if w <= 0 || n > MaxField {
			return Request{}, fmt.Errorf("%w: field %d has a bad or oversized length", ErrMalformed, tag)
		}
		if w != len(binary.AppendUvarint(nil, n)) {
			return Request{}, fmt.Errorf("%w: field %d length is not minimally encoded", ErrMalformed, tag)
		}
		rest = rest[1+w:]
		if uint64(len(rest)) < n {
			return Request{}, fmt.Errorf("%w: field %d runs past the end", ErrMalformed, tag)
		}
		fields[tag], rest = rest[:n], rest[n:]
	}
	if len(rest) != 0 {
		return Request{}, fmt.Errorf("%w: %d bytes after the last field", ErrMalformed, len(rest))
	}
	text := func(tag byte) (string, error) {
		if !utf8.Valid(fields[tag]) {
			return "", fmt.Errorf("%w: field %d is not UTF-8", ErrMalformed, tag)
		}
		return string(fields[tag]), nil
	}
	dst := []*string{&r.ID, &r.Identity, nil, &r.ClientName, &r.ReferenceText, &r.ActionText, &r.Title,
		&r.Fingerprint, &r.Location, &r.Browser}
	for i, p := range dst {
		s, err := text(byte(i + 1))
		if err != nil {
			return Request{}, err
		}
		if p != nil {
			*p = s
		} else {
			r.Kind = Kind(s)
		}
	}
	if !r.Kind.valid() || r.ID == "" || r.Identity == "" {
		return Request{}, fmt.Errorf("%w: kind %q, id %q, identity %q", ErrMalformed, r.Kind, r.ID, r.Identity)
	}
	for _, tag := range []byte{tagCreatedAt, tagExpiresAt} {
		if len(fields[tag]) != 8 {
			return Request{}, fmt.Errorf("%w: time field %d has %d bytes", ErrMalformed, tag, len(fields[tag]))
		}
	}
	r.CreatedAt = time.Unix(int64(binary.BigEndian.Uint64(fields[tagCreatedAt])), 0).UTC()
	r.ExpiresAt = time.Unix(int64(binary.BigEndian.Uint64(fields[tagExpiresAt])), 0).UTC()
	if !r.ExpiresAt.After(r.CreatedAt) {
		return Request{}, fmt.Errorf("%w: expires before it is made", ErrMalformed)
	}
	if len(fields[tagNonce]) != NonceSize {
		return Request{}, fmt.Errorf("%w: nonce of %d bytes", ErrMalformed, len(fields[tagNonce]))
	}
	r.Nonce = bytes.Clone(fields[tagNonce])
	return r, nil
}

// Decision is the person's answer.
type Decision string

const (
	Approve Decision = "approve"
	Reject  Decision = "reject"
	// Fraud is "I did not start this": it fails the flow, cancels the person's
	// other open requests and records a fraud report.
	Fraud Decision = "fraud"
)

// Valid reports whether d is one of the three decisions.
func (d Decision) Valid() bool { return d == Approve || d == Reject || d == Fraud }

const answerMagic = "OMIDANS1"

// AnswerMessage returns the bytes the device key signs for an answer:
//
//	"OMIDANS1" | len(id) id | len(request) request | len(decision) decision | len(binding) binding
//
// with uvarint lengths. request is the canonical encoding the app received
// when it bound the request, and binding the QR frame or code it bound with;
// both are empty for a request it did not bind, which may be rejected or
// reported but never approved.
func AnswerMessage(id string, request []byte, d Decision, binding string) []byte {
	b := make([]byte, 0, len(answerMagic)+len(id)+len(request)+len(d)+len(binding)+16)
	b = append(b, answerMagic...)
	for _, f := range [][]byte{[]byte(id), request, []byte(d), []byte(binding)} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}
