// Package emrtd reads and verifies electronic machine readable travel
// documents (passports and identity cards with a chip) as specified by ICAO
// Doc 9303, Eighth Edition (2021).
//
// It covers what a server needs to decide whether a chip's contents are
// genuine, given the files an app read from the chip:
//
//   - the machine readable zone, [ParseMRZ] (parts 3, 4 and 5);
//   - BAC key derivation from the MRZ, [DeriveBACKeys] (part 11, section 9.7),
//     and, for a reference reader, BAC mutual authentication and 3DES secure
//     messaging, [NewBACAuthenticate] and [SecureMessaging] (sections 4.3, 9.8);
//   - the LDS files DG1, DG2, DG14, DG15 and the SOD (part 10), see
//     [ParseDG1], [ParseDG2], [ParseDG14], [ParseDG15] and [ParseSOD];
//   - passive authentication, [PassiveAuthenticate] (part 11, section 5.1,
//     and part 12), against a [TrustList] of CSCA certificates;
//   - active authentication, [ActiveAuthenticate] (part 11, section 6.1);
//   - chip authentication with ECDH keys, [NewChipAuthentication] (part 11,
//     section 6.2; BSI TR-03110): the server stays inside the app's session
//     with the chip by handing it a READ BINARY already protected under the
//     new session keys, with 3DES or AES secure messaging (section 9.8;
//     AES-CMAC of RFC 4493), and checks the chip's protected answer;
//   - CSCA trust anchors from PEM, DER or an ICAO master list, [ParseCSCAs]
//     and [ParseMasterList] (part 12, section 9);
//   - the passport dump of CONTRACT.md, [ParseDump], and names written for
//     the MRZ, [Transliterate] (part 3, section 6).
//
// The sub-package testchip makes synthetic passports signed under the
// project's demo PKI ([DemoPKI], [DemoTrustList]), whose private keys are
// public: trust it only in --demo mode.
//
// Not implemented: PACE (the app talks to the chip; the server only receives
// files), chip authentication with Diffie-Hellman over a finite field
// (id-PK-DH), BER indefinite-length encodings in
// the SOD (DER only), and the transliteration of non-Latin scripts.
//
// Certificates are parsed by this package rather than crypto/x509 because
// document signer and CSCA certificates commonly use brainpool curves
// (RFC 5639) and explicit elliptic-curve domain parameters, neither of which
// crypto/x509 accepts. See [ParseCertificate].
//
// Every parser takes hostile input: lengths are checked against the input
// before anything is allocated, nesting is bounded, and errors name the value
// and the rule it broke. Errors that callers act upon are sentinel values to
// be tested with [errors.Is].
package emrtd

//go:generate go run ./internal/gentestdata
