package password

import "errors"

// A PolicyError is a password a person chose that the policy refuses. Each has a stable Code for
// the web layer and the JSON API, and a Message a person can read; Error is for developers' logs.
// The values are the sentinels below; test with errors.Is, or errors.As to get at the code.
type PolicyError struct {
	code   string
	detail string // for developers, after "password: "
	en, da string // for the person choosing the password
}

// The policy's refusals. [CheckPolicy], [Hasher.Hash] and [Hasher.Verify] return them, wrapped
// where a detail helps a developer (a length; never the password itself).
var (
	ErrTooShort = &PolicyError{code: "password_too_short", detail: "too short",
		en: "Your password must be at least 8 characters long.",
		da: "Din adgangskode skal være mindst 8 tegn lang."}
	ErrTooLong = &PolicyError{code: "password_too_long", detail: "too long",
		en: "Your password can be at most 256 characters long.",
		da: "Din adgangskode må højst være 256 tegn lang."}
	ErrContainsUserID = &PolicyError{code: "password_contains_user_id", detail: "contains the user ID",
		en: "Your password must not contain your user ID.",
		da: "Din adgangskode må ikke indeholde dit bruger-id."}
	ErrCommon = &PolicyError{code: "password_common", detail: "a common password or a simple variant of one",
		en: "This password is too common and easy to guess. Choose another one.",
		da: "Denne adgangskode er for almindelig og let at gætte. Vælg en anden."}
	ErrInvalidCharacters = &PolicyError{code: "password_invalid_characters", detail: "not valid UTF-8, or contains control characters",
		en: "Your password contains characters that cannot be used, such as tabs or line breaks.",
		da: "Din adgangskode indeholder tegn, der ikke kan bruges, fx tabulator eller linjeskift."}
)

// Error returns the developer's text, such as "password: too short"; see Message for people.
func (e *PolicyError) Error() string { return "password: " + e.detail }

// Code returns the stable machine-readable code, such as "password_too_short", for API error
// bodies ({"error": code, "message": ...}) and for the web layer's translations.
func (e *PolicyError) Code() string { return e.code }

// Message returns the error written for the person choosing the password, in Danish for lang "da"
// (the login pages' default) and in English otherwise.
func (e *PolicyError) Message(lang string) string {
	if lang == "da" {
		return e.da
	}
	return e.en
}

// Code returns the [PolicyError.Code] of the policy error in err's chain, or "" if there is none.
func Code(err error) string {
	if pe, ok := errors.AsType[*PolicyError](err); ok {
		return pe.code
	}
	return ""
}
