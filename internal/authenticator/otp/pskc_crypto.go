package otp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// A KeyProvider supplies the keys that protect the secrets in a PSKC document (RFC 6030, Section
// 6): the vendor sends them apart from the file. [ParsePSKC] asks only when the document holds an
// encrypted value, once per document, and refuses the document if the answer is an error.
type KeyProvider interface {
	// PreSharedKey returns the AES key (16, 24 or 32 bytes) that the document names in
	// <EncryptionKey><ds:KeyName> (RFC 6030, Section 6.1), or the MAC key it names in
	// <MACMethod><MACKeyReference> (Section 6.1.1).
	PreSharedKey(name string) ([]byte, error)
	// Passphrase returns the passphrase from which the document's key is derived with PBKDF2,
	// named in <xenc11:DerivedKey><xenc11:MasterKeyName> (RFC 6030, Section 6.2); name may be "".
	Passphrase(name string) (string, error)
}

// Keys is a [KeyProvider] of fixed keys, for the import command and tests. A name that is not in a
// map gets the entry for "" if there is one, so that an operator can give the one key a vendor
// sent without knowing what the file calls it.
type Keys struct {
	PreShared   map[string][]byte
	Passphrases map[string]string
}

// PreSharedKey implements [KeyProvider].
func (k Keys) PreSharedKey(name string) ([]byte, error) {
	if key, ok := k.PreShared[name]; ok {
		return key, nil
	}
	if key, ok := k.PreShared[""]; ok {
		return key, nil
	}
	return nil, fmt.Errorf("no pre-shared key named %q", name)
}

// Passphrase implements [KeyProvider].
func (k Keys) Passphrase(name string) (string, error) {
	if p, ok := k.Passphrases[name]; ok {
		return p, nil
	}
	if p, ok := k.Passphrases[""]; ok {
		return p, nil
	}
	return "", fmt.Errorf("no passphrase named %q", name)
}

// Algorithm URIs (RFC 6030, Sections 6.1, 6.1.1 and 6.2).
const (
	uriAES128CBC   = nsXENC + "aes128-cbc"
	uriAES192CBC   = nsXENC + "aes192-cbc"
	uriAES256CBC   = nsXENC + "aes256-cbc"
	uriHMACSHA1    = nsDS + "hmac-sha1"
	uriXMLDSigMore = "http://www.w3.org/2001/04/xmldsig-more#"
	// Figure 7 of RFC 6030 writes the first, its prose the second.
	uriPBKDF2   = "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2"
	uriPBKDF2v2 = "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5#pbkdf2"
)

// cbcKeyLen maps the AES-CBC algorithms to their key lengths. Key wrap (kw-aes*), Triple DES,
// Camellia and RSA are not supported: token vendors offer AES-CBC, which RFC 6030 recommends.
var cbcKeyLen = map[string]int{uriAES128CBC: 16, uriAES192CBC: 24, uriAES256CBC: 32}

// macHash maps the MAC and PBKDF2 PRF algorithms to their hashes.
var macHash = map[string]func() hash.Hash{
	uriHMACSHA1:                    sha1.New,
	uriXMLDSigMore + "hmac-sha224": sha256.New224,
	uriXMLDSigMore + "hmac-sha256": sha256.New,
	uriXMLDSigMore + "hmac-sha384": sha512.New384,
	uriXMLDSigMore + "hmac-sha512": sha512.New,
}

// Limits on what a document may ask of us.
const (
	maxPBKDF2Iterations = 10_000_000 // about 3 s of HMAC-SHA-1, once per document
	minMACKeyLen        = 16
	maxMACKeyLen        = 128
)

// protection is a document's encryption and MAC keys (RFC 6030, Section 6), set up once.
type protection struct {
	encKey []byte
	macNew func() hash.Hash
	macKey []byte
}

// newProtection sets up the keys of c. Its errors concern the whole document.
func newProtection(c *xmlContainer, keys KeyProvider) (*protection, error) {
	ek, err := one(c.EncryptionKey, "EncryptionKey")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPSKCMalformed, err)
	}
	if ek == nil {
		return nil, fmt.Errorf("%w: encrypted values but no EncryptionKey", ErrPSKCMalformed)
	}
	if len(ek.Other) > 0 {
		return nil, fmt.Errorf("%w: EncryptionKey with <%s>: only a pre-shared key (ds:KeyName, RFC 6030, Section 6.1) or a PBKDF2 passphrase (Section 6.2) is supported, not asymmetric keys", ErrPSKCUnsupported, ek.Other[0].XMLName.Local)
	}
	if keys == nil {
		return nil, fmt.Errorf("%w: the document is encrypted and no KeyProvider was given", ErrPSKCNoKey)
	}
	p := &protection{}
	switch {
	case len(ek.KeyName) == 1 && len(ek.DerivedKey) == 0:
		name := strings.TrimSpace(ek.KeyName[0])
		key, err := keys.PreSharedKey(name)
		if err != nil {
			return nil, fmt.Errorf("%w: pre-shared key %q: %v", ErrPSKCNoKey, name, err)
		}
		if l := len(key); l != 16 && l != 24 && l != 32 {
			return nil, fmt.Errorf("%w: pre-shared key %q has %d bytes, want an AES key of 16, 24 or 32", ErrPSKCNoKey, name, l)
		}
		p.encKey = key
	case len(ek.KeyName) == 0 && len(ek.DerivedKey) == 1:
		if p.encKey, err = deriveKey(&ek.DerivedKey[0], keys); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: EncryptionKey must hold one ds:KeyName or one xenc11:DerivedKey", ErrPSKCMalformed)
	}

	mm, err := one(c.MACMethod, "MACMethod")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPSKCMalformed, err)
	}
	if mm == nil {
		return nil, fmt.Errorf("%w: encrypted values but no MACMethod: AES-CBC has no integrity, so RFC 6030, Section 6.1.1 requires a ValueMAC", ErrPSKCMalformed)
	}
	if p.macNew = macHash[mm.Algorithm]; p.macNew == nil {
		return nil, fmt.Errorf("%w: MAC algorithm %q", ErrPSKCUnsupported, mm.Algorithm)
	}
	switch {
	case len(mm.MACKey) == 1 && len(mm.MACKeyReference) == 0:
		// The MAC key has no MAC of its own: a wrong or altered one fails every ValueMAC.
		if p.macKey, err = p.decrypt(&mm.MACKey[0]); err != nil {
			return nil, fmt.Errorf("%w (MACKey)", err)
		}
	case len(mm.MACKey) == 0 && len(mm.MACKeyReference) == 1:
		name := strings.TrimSpace(mm.MACKeyReference[0])
		if p.macKey, err = keys.PreSharedKey(name); err != nil {
			return nil, fmt.Errorf("%w: MAC key %q: %v", ErrPSKCNoKey, name, err)
		}
	default:
		return nil, fmt.Errorf("%w: MACMethod must hold one MACKey or one MACKeyReference", ErrPSKCMalformed)
	}
	if l := len(p.macKey); l < minMACKeyLen || l > maxMACKeyLen {
		return nil, fmt.Errorf("%w: MAC key of %d bytes, want %d to %d", ErrPSKCUnsupported, l, minMACKeyLen, maxMACKeyLen)
	}
	return p, nil
}

// deriveKey derives the document key from a passphrase with PBKDF2 (RFC 6030, Section 6.2; PKCS #5
// v2.0; XML Encryption 1.1, Section 5.4.2).
func deriveKey(dk *xmlDerivedKey, keys KeyProvider) ([]byte, error) {
	method, err := one(dk.Method, "KeyDerivationMethod")
	if err != nil || method == nil {
		return nil, fmt.Errorf("%w: DerivedKey needs one KeyDerivationMethod", ErrPSKCMalformed)
	}
	if method.Algorithm != uriPBKDF2 && method.Algorithm != uriPBKDF2v2 {
		return nil, fmt.Errorf("%w: key derivation %q, only PBKDF2", ErrPSKCUnsupported, method.Algorithm)
	}
	params, err := one(method.PBKDF2, "PBKDF2-params")
	if err != nil || params == nil {
		return nil, fmt.Errorf("%w: PBKDF2 needs one PBKDF2-params", ErrPSKCMalformed)
	}
	salt, err := one(params.Salt, "Salt")
	if err != nil || salt == nil || len(salt.Specified) != 1 || len(salt.Other) > 0 {
		return nil, fmt.Errorf("%w: PBKDF2-params needs one Salt with one Specified value", ErrPSKCMalformed)
	}
	saltBytes, err := decodeBase64(salt.Specified[0])
	if err != nil || len(saltBytes) == 0 {
		return nil, fmt.Errorf("%w: PBKDF2 salt is not base64", ErrPSKCMalformed)
	}
	iter, err := oneInt(params.IterationCount, "IterationCount", 1, maxPBKDF2Iterations)
	if err != nil || iter == 0 {
		return nil, fmt.Errorf("%w: PBKDF2 IterationCount: want 1 to %d", ErrPSKCMalformed, maxPBKDF2Iterations)
	}
	keyLen := int64(16)
	if len(params.KeyLength) > 0 {
		if keyLen, err = oneInt(params.KeyLength, "KeyLength", 16, 32); err != nil || keyLen%8 != 0 {
			return nil, fmt.Errorf("%w: PBKDF2 KeyLength: want 16, 24 or 32", ErrPSKCMalformed)
		}
	}
	prf := sha1.New // PKCS #5 v2.0's default
	if p, err := one(params.PRF, "PRF"); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPSKCMalformed, err)
	} else if p != nil && p.Algorithm != "" {
		if prf = macHash[p.Algorithm]; prf == nil {
			return nil, fmt.Errorf("%w: PBKDF2 PRF %q", ErrPSKCUnsupported, p.Algorithm)
		}
	}
	name := ""
	if len(dk.MasterKeyName) > 0 {
		name = strings.TrimSpace(dk.MasterKeyName[0])
	}
	pass, err := keys.Passphrase(name)
	if err != nil {
		return nil, fmt.Errorf("%w: passphrase %q: %v", ErrPSKCNoKey, name, err)
	}
	key, err := pbkdf2.Key(prf, pass, saltBytes, int(iter), int(keyLen))
	if err != nil {
		return nil, fmt.Errorf("%w: PBKDF2: %v", ErrPSKCMalformed, err)
	}
	return key, nil
}

// decrypt decrypts an XML Encryption EncryptedValue with the document key: AES-CBC with the IV
// prepended to the ciphertext and PKCS #5 padding (RFC 6030, Sections 6.1 and 6.4).
func (p *protection) decrypt(ev *xmlEncryptedData) ([]byte, error) {
	ct, err := p.cipherValue(ev)
	if err != nil {
		return nil, err
	}
	return p.decryptCBC(ct)
}

// cipherValue returns the ciphertext of ev after checking its algorithm and key length.
func (p *protection) cipherValue(ev *xmlEncryptedData) ([]byte, error) {
	if len(ev.Method) != 1 {
		return nil, fmt.Errorf("%w: EncryptedValue needs one EncryptionMethod", ErrPSKCMalformed)
	}
	alg := ev.Method[0].Algorithm
	keyLen, ok := cbcKeyLen[alg]
	if !ok {
		return nil, fmt.Errorf("%w: encryption algorithm %q, only AES-CBC", ErrPSKCUnsupported, alg)
	}
	if len(p.encKey) != keyLen {
		return nil, fmt.Errorf("%w: %q needs a %d-byte key, the document key has %d", ErrPSKCNoKey, alg, keyLen, len(p.encKey))
	}
	if len(ev.CipherValue) != 1 {
		return nil, fmt.Errorf("%w: EncryptedValue needs one CipherData/CipherValue", ErrPSKCMalformed)
	}
	ct, err := decodeBase64(ev.CipherValue[0])
	if err != nil {
		return nil, fmt.Errorf("%w: CipherValue is not base64", ErrPSKCMalformed)
	}
	if len(ct) < 2*aes.BlockSize || len(ct)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%w: CipherValue of %d bytes is not an IV and whole AES blocks", ErrPSKCMalformed, len(ct))
	}
	return ct, nil
}

func (p *protection) decryptCBC(ct []byte) ([]byte, error) {
	block, err := aes.NewCipher(p.encKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPSKCNoKey, err)
	}
	iv, body := ct[:aes.BlockSize], ct[aes.BlockSize:]
	plain := make([]byte, len(body))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, body)
	// Padding is checked after the MAC, so it cannot serve as a padding oracle.
	n := int(plain[len(plain)-1])
	if n < 1 || n > aes.BlockSize {
		return nil, fmt.Errorf("%w: decrypted value has bad padding (wrong key?)", ErrPSKCMalformed)
	}
	for _, b := range plain[len(plain)-n:] {
		if int(b) != n {
			return nil, fmt.Errorf("%w: decrypted value has bad padding (wrong key?)", ErrPSKCMalformed)
		}
	}
	return plain[:len(plain)-n], nil
}

// open returns the plaintext of a Data child's EncryptedValue after checking its ValueMAC, an HMAC
// over the IV and ciphertext (RFC 6030, Section 6.1.1; as in its Figures 6 and 7), in constant time.
func (p *protection) open(ev *xmlEncryptedData, valueMAC []string) ([]byte, error) {
	if p == nil {
		return nil, fmt.Errorf("%w: encrypted value in a document without keys", ErrPSKCMalformed)
	}
	ct, err := p.cipherValue(ev)
	if err != nil {
		return nil, err
	}
	if len(valueMAC) != 1 {
		return nil, fmt.Errorf("%w: encrypted value needs one ValueMAC (AES-CBC has no integrity)", ErrPSKCMalformed)
	}
	want, err := decodeBase64(valueMAC[0])
	if err != nil {
		return nil, fmt.Errorf("%w: ValueMAC is not base64", ErrPSKCMalformed)
	}
	mac := hmac.New(p.macNew, p.macKey)
	mac.Write(ct)
	if !hmac.Equal(mac.Sum(nil), want) {
		return nil, fmt.Errorf("%w: the file was altered, or the key is wrong", ErrPSKCMACMismatch)
	}
	return p.decryptCBC(ct)
}

// decodeBase64 decodes xs:base64Binary, which may hold white space anywhere.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Join(strings.Fields(s), "")
	return base64.StdEncoding.DecodeString(s)
}

// oneInt parses the single decimal value in xs (0 if there is none) and checks it is in lo..hi.
func oneInt(xs []string, what string, lo, hi int64) (int64, error) {
	v, err := one(xs, what)
	if err != nil || v == nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(*v), 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s %q: want a whole number from %d to %d", what, strings.TrimSpace(*v), lo, hi)
	}
	return n, nil
}
