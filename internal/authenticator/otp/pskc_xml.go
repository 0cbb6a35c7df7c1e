package otp

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// XML namespaces of PSKC documents (RFC 6030, Section 1.3).
const (
	nsPSKC   = "urn:ietf:params:xml:ns:keyprov:pskc"
	nsDS     = "http://www.w3.org/2000/09/xmldsig#"
	nsXENC   = "http://www.w3.org/2001/04/xmlenc#"
	nsXENC11 = "http://www.w3.org/2009/xmlenc11#"
)

// The document as encoding/xml sees it. Elements that may occur once are slices all the same, so
// that a second one is noticed and refused instead of silently merged into the first.
type (
	xmlContainer struct {
		XMLName       xml.Name           `xml:"urn:ietf:params:xml:ns:keyprov:pskc KeyContainer"`
		Version       string             `xml:"Version,attr"`
		EncryptionKey []xmlEncryptionKey `xml:"urn:ietf:params:xml:ns:keyprov:pskc EncryptionKey"`
		MACMethod     []xmlMACMethod     `xml:"urn:ietf:params:xml:ns:keyprov:pskc MACMethod"`
		KeyPackages   []xmlKeyPackage    `xml:"urn:ietf:params:xml:ns:keyprov:pskc KeyPackage"`
		// Signature and Extensions are not read: see ParsePSKC.
	}

	xmlEncryptionKey struct {
		KeyName    []string        `xml:"http://www.w3.org/2000/09/xmldsig# KeyName"`
		DerivedKey []xmlDerivedKey `xml:"http://www.w3.org/2009/xmlenc11# DerivedKey"`
		Other      []xmlAny        `xml:",any"`
	}

	xmlDerivedKey struct {
		Method        []xmlDerivationMethod `xml:"http://www.w3.org/2009/xmlenc11# KeyDerivationMethod"`
		MasterKeyName []string              `xml:"http://www.w3.org/2009/xmlenc11# MasterKeyName"`
	}

	xmlDerivationMethod struct {
		Algorithm string `xml:"Algorithm,attr"`
		// PKCS #5 v2.0's schema leaves the children of PBKDF2-params unqualified, and documents differ
		// on whether they inherit a default namespace, so these match by local name.
		PBKDF2 []struct {
			Salt []struct {
				Specified []string `xml:"Specified"`
				Other     []xmlAny `xml:",any"`
			} `xml:"Salt"`
			IterationCount []string `xml:"IterationCount"`
			KeyLength      []string `xml:"KeyLength"`
			PRF            []struct {
				Algorithm string `xml:"Algorithm,attr"`
			} `xml:"PRF"`
		} `xml:"PBKDF2-params"`
	}

	xmlMACMethod struct {
		Algorithm       string             `xml:"Algorithm,attr"`
		MACKey          []xmlEncryptedData `xml:"urn:ietf:params:xml:ns:keyprov:pskc MACKey"`
		MACKeyReference []string           `xml:"urn:ietf:params:xml:ns:keyprov:pskc MACKeyReference"`
	}

	// xmlEncryptedData is XML Encryption's EncryptedDataType, as far as PSKC uses it.
	xmlEncryptedData struct {
		Method []struct {
			Algorithm string `xml:"Algorithm,attr"`
		} `xml:"http://www.w3.org/2001/04/xmlenc# EncryptionMethod"`
		CipherValue []string `xml:"http://www.w3.org/2001/04/xmlenc# CipherData>CipherValue"`
	}

	xmlKeyPackage struct {
		DeviceInfo []struct {
			Manufacturer []string `xml:"urn:ietf:params:xml:ns:keyprov:pskc Manufacturer"`
			SerialNo     []string `xml:"urn:ietf:params:xml:ns:keyprov:pskc SerialNo"`
			Model        []string `xml:"urn:ietf:params:xml:ns:keyprov:pskc Model"`
		} `xml:"urn:ietf:params:xml:ns:keyprov:pskc DeviceInfo"`
		Key []xmlKey `xml:"urn:ietf:params:xml:ns:keyprov:pskc Key"`
	}

	xmlKey struct {
		ID                  string   `xml:"Id,attr"`
		Algorithm           string   `xml:"Algorithm,attr"`
		Issuer              []string `xml:"urn:ietf:params:xml:ns:keyprov:pskc Issuer"`
		AlgorithmParameters []struct {
			Suite           []string `xml:"urn:ietf:params:xml:ns:keyprov:pskc Suite"`
			ChallengeFormat []xmlAny `xml:"urn:ietf:params:xml:ns:keyprov:pskc ChallengeFormat"`
			ResponseFormat  []struct {
				Encoding    string `xml:"Encoding,attr"`
				Length      string `xml:"Length,attr"`
				CheckDigits string `xml:"CheckDigits,attr"`
				CheckDigit  string `xml:"CheckDigit,attr"` // the spelling of RFC 6030's prose
			} `xml:"urn:ietf:params:xml:ns:keyprov:pskc ResponseFormat"`
		} `xml:"urn:ietf:params:xml:ns:keyprov:pskc AlgorithmParameters"`
		KeyReference []string `xml:"urn:ietf:params:xml:ns:keyprov:pskc KeyReference"`
		Data         []struct {
			Secret       []xmlValue `xml:"urn:ietf:params:xml:ns:keyprov:pskc Secret"`
			Counter      []xmlValue `xml:"urn:ietf:params:xml:ns:keyprov:pskc Counter"`
			Time         []xmlValue `xml:"urn:ietf:params:xml:ns:keyprov:pskc Time"`
			TimeInterval []xmlValue `xml:"urn:ietf:params:xml:ns:keyprov:pskc TimeInterval"`
			TimeDrift    []xmlValue `xml:"urn:ietf:params:xml:ns:keyprov:pskc TimeDrift"`
		} `xml:"urn:ietf:params:xml:ns:keyprov:pskc Data"`
		Policy []xmlPolicy `xml:"urn:ietf:params:xml:ns:keyprov:pskc Policy"`
	}

	// xmlValue is PSKC's binaryDataType and its integer variants (RFC 6030, Section 4.1).
	xmlValue struct {
		PlainValue     []string           `xml:"urn:ietf:params:xml:ns:keyprov:pskc PlainValue"`
		EncryptedValue []xmlEncryptedData `xml:"urn:ietf:params:xml:ns:keyprov:pskc EncryptedValue"`
		ValueMAC       []string           `xml:"urn:ietf:params:xml:ns:keyprov:pskc ValueMAC"`
	}

	xmlPolicy struct {
		StartDate  []string `xml:"urn:ietf:params:xml:ns:keyprov:pskc StartDate"`
		ExpiryDate []string `xml:"urn:ietf:params:xml:ns:keyprov:pskc ExpiryDate"`
		PINPolicy  []struct {
			PINUsageMode string `xml:"PINUsageMode,attr"`
		} `xml:"urn:ietf:params:xml:ns:keyprov:pskc PINPolicy"`
		KeyUsage             []string `xml:"urn:ietf:params:xml:ns:keyprov:pskc KeyUsage"`
		NumberOfTransactions []string `xml:"urn:ietf:params:xml:ns:keyprov:pskc NumberOfTransactions"`
		// RFC 6030, Section 5: a recipient that does not understand a policy element "MUST assume
		// that key usage is not permitted".
		Other []xmlAny `xml:",any"`
	}

	xmlAny struct {
		XMLName xml.Name
	}
)

// maxDepth bounds element nesting; PSKC needs about 8 levels, and deeper documents only cost
// stack and time.
const maxDepth = 64

// scanPSKC reads the whole document token by token before it is decoded, refusing what
// encoding/xml would let through: a DTD (<!DOCTYPE>, <!ENTITY>: encoding/xml does not expand
// entities, but nothing good comes in one), a root other than PSKC's KeyContainer, content after
// the root element, nesting deeper than maxDepth and more than maxKeys KeyPackages.
func scanPSKC(doc []byte, maxKeys int) error {
	d := xml.NewDecoder(bytes.NewReader(doc))
	depth, packages := 0, 0
	rootDone := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrPSKCMalformed, err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			kind := strings.Map(func(r rune) rune {
				if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' {
					return r
				}
				return -1
			}, string(t[:min(len(t), 10)]))
			return fmt.Errorf("%w: document has a DTD or entity declaration (<!%s ...>), which PSKC files never need", ErrPSKCUnsupported, kind)
		case xml.StartElement:
			if rootDone {
				return fmt.Errorf("%w: element <%s> after the root element", ErrPSKCMalformed, t.Name.Local)
			}
			depth++
			if depth > maxDepth {
				return fmt.Errorf("%w: elements nested more than %d deep", ErrPSKCMalformed, maxDepth)
			}
			if depth == 1 && (t.Name.Space != nsPSKC || t.Name.Local != "KeyContainer") {
				return fmt.Errorf("%w: root element is <%s> in namespace %q, want <KeyContainer> in %q", ErrPSKCMalformed, t.Name.Local, t.Name.Space, nsPSKC)
			}
			if depth == 2 && t.Name.Space == nsPSKC && t.Name.Local == "KeyPackage" {
				packages++
				if packages > maxKeys {
					return fmt.Errorf("%w: more than %d KeyPackages; split the file", ErrPSKCTooLarge, maxKeys)
				}
			}
		case xml.EndElement:
			depth--
			rootDone = depth == 0
		case xml.CharData:
			if rootDone && len(bytes.TrimSpace(t)) > 0 {
				return fmt.Errorf("%w: text after the root element", ErrPSKCMalformed)
			}
		}
	}
	if !rootDone {
		return fmt.Errorf("%w: no KeyContainer element", ErrPSKCMalformed)
	}
	return nil
}

// decodePSKC decodes a document that scanPSKC has accepted.
func decodePSKC(doc []byte) (*xmlContainer, error) {
	var c xmlContainer
	d := xml.NewDecoder(bytes.NewReader(doc))
	if err := d.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPSKCMalformed, err)
	}
	return &c, nil
}

// one returns the only element of xs, nil if there is none, and an error naming what if there are
// several.
func one[T any](xs []T, what string) (*T, error) {
	switch len(xs) {
	case 0:
		return nil, nil
	case 1:
		return &xs[0], nil
	}
	return nil, fmt.Errorf("%d %s elements, want at most one", len(xs), what)
}
