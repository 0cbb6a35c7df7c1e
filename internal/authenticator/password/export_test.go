package password

// Test-only access to the PHC codec, for the round-trip fuzz test in package password_test.
var (
	EncodePHC = encode
	DecodePHC = decode
)

// SetIDKey replaces the argon2id function of h, to observe how many computations run at once.
func SetIDKey(h *Hasher, f func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte) {
	h.idKey = f
}
