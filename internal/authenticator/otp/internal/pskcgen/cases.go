package main

import (
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
	"strings"
)

// cases returns the generated golden files in a fixed order (the order in which they draw from
// rng matters for reproducibility: append new cases at the end).
func cases() []testCase {
	reseed()
	var cs []testCase
	add := func(name, xml, want string) { cs = append(cs, testCase{name, xml, want}) }

	aes128 := &sealer{key: rfcPSK, macKey: random(20), mac: sha1.New, encURI: "http://www.w3.org/2001/04/xmlenc#aes128-cbc"}
	aes256 := &sealer{key: vendorPSK, macKey: random(32), mac: sha256.New, encURI: "http://www.w3.org/2001/04/xmlenc#aes256-cbc"}

	// Files a vendor sends, which must import.
	batch := []token{newTOTP("CD0000001"), newTOTP("CD0000002"), newTOTP("CD0000003")}
	add("totp-aes128-batch", document("batch-1", aes128, rfcPSKName,
		keyPackageXML(batch[0], aes128), keyPackageXML(batch[1], aes128), keyPackageXML(batch[2], aes128)),
		wantOK("three code displays, secrets under AES-128-CBC with a pre-shared key and HMAC-SHA1 ValueMACs", batch...))

	t8 := newTOTP("AC0000001")
	t8.model, t8.suite, t8.digits, t8.secret = "ACR-8", "HMAC-SHA256", 8, random(32)
	t8.interval, t8.drift, t8.encryptInts = intPtr(60), intPtr(-1), true
	t8.notBefore, t8.notAfter = "2026-01-01T00:00:00Z", "2031-12-31T23:59:59Z"
	t8.policy = "        <pskc:KeyUsage>OTP</pskc:KeyUsage>\n        <pskc:PINPolicy PINUsageMode=\"Local\" MinLength=\"4\" MaxLength=\"4\"/>\n"
	add("totp-aes256-sha256-8digits", document("batch-2", aes256, vendorPSKName, keyPackageXML(t8, aes256)),
		wantOK("an audio code reader: SHA-256, 8 digits, 60 s; AES-256-CBC and HMAC-SHA256; Time, TimeInterval and TimeDrift encrypted too; a validity period and a local PIN", t8))

	pbe, ek := pbkdf2Sealer()
	p1, p2 := newTOTP("CD0000101"), newTOTP("CD0000102")
	p2.suite, p2.secret = "HMAC-SHA512", random(64)
	add("totp-pbkdf2", fmt.Sprintf(header, "batch-3")+ek+pbe.macMethodXML()+keyPackageXML(p1, pbe)+keyPackageXML(p2, pbe)+"</pskc:KeyContainer>\n",
		wantOK("secrets under a key derived from a passphrase with PBKDF2-HMAC-SHA256 (RFC 6030, Section 6.2)", p1, p2))

	h := token{serial: "HT0000001", manufacturer: "oath.TT", keyID: "h1", issuer: "OpenMitID", algorithm: uriHOTP,
		digits: 6, secret: random(20), counter: intPtr(42)}
	add("hotp-plain", document("batch-4", nil, "", keyPackageXML(h, nil)),
		wantOK("an unencrypted HOTP token with its counter", h))

	// Tampering and keys.
	tampered := keyPackageXML(newTOTP("CD0000202"), aes128)
	i := strings.Index(tampered, "<xenc:CipherValue>") + len("<xenc:CipherValue>") + 30
	tampered = tampered[:i] + flipB64(tampered[i]) + tampered[i+1:]
	add("mac-mismatch", document("t1", aes128, rfcPSKName, keyPackageXML(newTOTP("CD0000201"), aes128), tampered),
		wantErr("one character of the second secret's ciphertext changed", "ErrPSKCMACMismatch", "KeyPackage 2", `"CD0000202"`, "ValueMAC mismatch", "(Secret)"))

	noMAC := newTOTP("CD0000301")
	ct := aes128.encrypt(noMAC.secret)
	add("value-mac-missing", strings.Replace(document("t2", aes128, rfcPSKName, keyPackageXML(noMAC, nil)),
		"<pskc:PlainValue>"+b64(noMAC.secret)+"</pskc:PlainValue>", aes128.encryptedXML(ct, nil), 1),
		wantErr("an encrypted secret without a ValueMAC", "ErrPSKCMalformed", "KeyPackage 1", "needs one ValueMAC"))

	noMethod := document("t3", aes128, rfcPSKName, keyPackageXML(newTOTP("CD0000401"), aes128))
	noMethod = cut(noMethod, "  <pskc:MACMethod", "</pskc:MACMethod>\n")
	add("mac-method-missing", noMethod, wantErr("encrypted values and no MACMethod", "ErrPSKCMalformed", "no MACMethod"))

	add("key-name-unknown", document("t4", aes128, "Some-other-key", keyPackageXML(newTOTP("CD0000501"), aes128)),
		wantErr("encrypted under a key the provider does not have", "ErrPSKCNoKey", `"Some-other-key"`))

	badPad := newTOTP("CD0000601")
	ct = aes128.encryptRaw(append(append([]byte{}, badPad.secret...), make([]byte, 12)...))
	add("bad-padding", strings.Replace(document("t5", aes128, rfcPSKName, keyPackageXML(badPad, nil)),
		"<pskc:PlainValue>"+b64(badPad.secret)+"</pskc:PlainValue>", aes128.encryptedXML(ct, aes128.macOf(ct)), 1),
		wantErr("a correctly MACed ciphertext whose padding is wrong", "ErrPSKCMalformed", "bad padding"))

	kw := document("t6", aes128, rfcPSKName, keyPackageXML(newTOTP("CD0000701"), aes128))
	add("kw-aes128", strings.ReplaceAll(kw, "xmlenc#aes128-cbc", "xmlenc#kw-aes128"),
		wantErr("AES key wrap, which is not supported", "ErrPSKCUnsupported", "kw-aes128"))

	// Hostile XML.
	plain := keyPackageXML(newTOTP("CD0000801"), nil)
	add("dtd-billion-laughs", `<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<pskc:KeyContainer Version="1.0" xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc">
`+strings.Replace(plain, "OpenMitID</pskc:Issuer>", "&lol3;</pskc:Issuer>", 1)+"</pskc:KeyContainer>\n",
		wantErr("entity expansion (billion laughs)", "ErrPSKCUnsupported", "DTD"))
	add("dtd-external-entity", `<?xml version="1.0"?>
<!DOCTYPE pskc:KeyContainer [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<pskc:KeyContainer Version="1.0" xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc">
`+strings.Replace(plain, "OpenMitID</pskc:Issuer>", "&xxe;</pskc:Issuer>", 1)+"</pskc:KeyContainer>\n",
		wantErr("an external entity (XXE)", "ErrPSKCUnsupported", "DTD"))
	deep := strings.Repeat("<pskc:Extensions>", 70) + strings.Repeat("</pskc:Extensions>", 70)
	add("deep-nesting", document("x1", nil, "", strings.Replace(plain, "</pskc:KeyPackage>", deep+"</pskc:KeyPackage>", 1)),
		wantErr("elements nested 70 deep", "ErrPSKCMalformed", "nested more than 64"))
	add("second-root", document("x2", nil, "", plain)+"<pskc:KeyContainer Version=\"1.0\"/>\n",
		wantErr("a second root element", "ErrPSKCMalformed", "after the root element"))
	add("not-xml", "serial,secret\nCD1,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n",
		wantErr("a CSV file", "ErrPSKCMalformed"))
	add("latin1", strings.Replace(document("x3", nil, "", plain), `encoding="UTF-8"`, `encoding="ISO-8859-1"`, 1),
		wantErr("an encoding other than UTF-8", "ErrPSKCMalformed", "ISO-8859-1"))

	// The container.
	add("version-2", strings.Replace(document("c1", nil, "", plain), `Version="1.0"`, `Version="2.0"`, 1),
		wantErr("a future version", "ErrPSKCUnsupported", `Version "2.0"`))
	add("draft-namespace", strings.Replace(document("c2", nil, "", plain), `xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc"`, `xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc:1.0"`, 1),
		wantErr("the namespace of the PSKC drafts", "ErrPSKCMalformed", "root element", "keyprov:pskc:1.0"))
	add("no-key-packages", document("c3", nil, ""), wantErr("a container without KeyPackages", "ErrPSKCMalformed", "no KeyPackage"))

	// Serial numbers.
	noSerial := newTOTP("")
	add("serial-missing", document("s1", nil, "", keyPackageXML(noSerial, nil)),
		wantErr("no SerialNo", "ErrPSKCMissingSerial", "KeyPackage 1", "no DeviceInfo/SerialNo"))
	d1, d2 := newTOTP("CD0000901"), newTOTP("CD0000901")
	add("serial-duplicate", document("s2", nil, "", keyPackageXML(newTOTP("CD0000900"), nil), keyPackageXML(d1, nil), keyPackageXML(d2, nil)),
		wantErr("two tokens with one serial number", "ErrPSKCDuplicateSerial", `KeyPackage 3 (serial "CD0000901")`, "also in KeyPackage 2"))
	var many []string
	for range 25 {
		many = append(many, keyPackageXML(newTOTP(""), nil))
	}
	add("many-errors", document("s3", nil, "", many...),
		wantErr("25 refused KeyPackages: the first 20 are reported, then a count", "ErrPSKCMissingSerial", "KeyPackage 1", "KeyPackage 20", "5 more KeyPackages refused"))

	// Keys and their settings.
	ocra := newTOTP("CD0001001")
	ocra.algorithm = "urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1:HOTP-SHA1-6:QN08"
	add("algorithm-ocra", document("k1", nil, "", keyPackageXML(ocra, nil)),
		wantErr("a challenge-response (OCRA) key", "ErrPSKCUnsupported", "OCRA-1"))
	d7 := newTOTP("CD0001101")
	d7.digits = 7
	add("digits-7", document("k2", nil, "", keyPackageXML(d7, nil)), wantErr("7-digit codes", "ErrPSKCUnsupported", `Length "7"`))
	add("digits-hex", strings.Replace(document("k3", nil, "", keyPackageXML(newTOTP("CD0001201"), nil)), `Encoding="DECIMAL"`, `Encoding="HEXADECIMAL"`, 1),
		wantErr("hexadecimal codes", "ErrPSKCUnsupported", `Encoding "HEXADECIMAL"`))
	add("check-digits", strings.Replace(document("k4", nil, "", keyPackageXML(newTOTP("CD0001301"), nil)), `Encoding="DECIMAL"`, `Encoding="DECIMAL" CheckDigits="true"`, 1),
		wantErr("codes with a Luhn check digit", "ErrPSKCUnsupported", "CheckDigits"))
	short := newTOTP("CD0001401")
	short.secret = random(10)
	add("secret-short", document("k5", nil, "", keyPackageXML(short, nil)), wantErr("an 80-bit secret", "ErrPSKCUnsupported", "Secret of 10 bytes"))
	two := keyPackageXML(newTOTP("CD0001501"), nil)
	two = strings.Replace(two, "      </pskc:Data>", "        <pskc:Secret><pskc:PlainValue>"+b64(random(20))+"</pskc:PlainValue></pskc:Secret>\n      </pskc:Data>", 1)
	add("secret-twice", document("k6", nil, "", two), wantErr("two Secret elements", "ErrPSKCMalformed", "2 Secret elements"))
	t0 := newTOTP("CD0001601")
	t0.t0 = intPtr(5)
	add("totp-time-offset", document("k7", nil, "", keyPackageXML(t0, nil)), wantErr("a TOTP with T0 other than the epoch", "ErrPSKCUnsupported", "Time 5"))
	neg := h
	neg.serial, neg.counter = "HT0000002", intPtr(-1)
	add("counter-negative", document("k8", nil, "", keyPackageXML(neg, nil)), wantErr("a negative HOTP counter", "ErrPSKCMalformed", `Counter "-1"`))

	// Policies that cannot be honoured (RFC 6030, Section 5).
	for _, p := range []struct{ name, policy, mention string }{
		{"policy-keyusage-cr", "        <pskc:KeyUsage>CR</pskc:KeyUsage>\n", "KeyUsage"},
		{"policy-pin-append", "        <pskc:PINPolicy PINUsageMode=\"Append\" MinLength=\"4\"/>\n", `PINUsageMode "Append"`},
		{"policy-transactions", "        <pskc:NumberOfTransactions>100</pskc:NumberOfTransactions>\n", "NumberOfTransactions"},
		{"policy-unknown-element", "        <x:Geofence xmlns:x=\"urn:example:vendor\">DK</x:Geofence>\n", "<Geofence>"},
	} {
		tok := newTOTP("CD0001701")
		tok.policy = p.policy
		add(p.name, document("p", nil, "", keyPackageXML(tok, nil)), wantErr("a policy the server cannot honour", "ErrPSKCUnsupported", p.mention))
	}

	iter := strings.Replace(fmt.Sprintf(header, "k9")+ek+pbe.macMethodXML()+keyPackageXML(newTOTP("CD0001801"), pbe)+"</pskc:KeyContainer>\n",
		"<IterationCount>2000</IterationCount>", "<IterationCount>100000000</IterationCount>", 1)
	add("pbkdf2-iterations-huge", iter, wantErr("PBKDF2 with 10^8 iterations, a denial of service", "ErrPSKCMalformed", "IterationCount"))
	return cs
}

// flipB64 returns a different base64 character for c.
func flipB64(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// cut removes the text from the first from through the next to.
func cut(s, from, to string) string {
	i := strings.Index(s, from)
	j := strings.Index(s[i:], to)
	return s[:i] + s[i+j+len(to):]
}
