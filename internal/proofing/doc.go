// Package proofing is enrolment: how a person proves who they are and gets
// an identity. It holds the enrolment case, the evidence behind an identity
// (DESIGN.md), and the rules that decide it.
//
// # Enrolment with the app and a passport
//
// The app starts a case ([Service.Start]) and receives a fresh 8-byte active
// authentication challenge (ICAO 9303 part 11, section 6.1), single-use and
// valid for [ChallengeTTL]. It sends, once ([Service.SubmitPassport]), the MRZ
// it scanned, the chip's data groups and SOD, the chip's answer to the
// challenge, a selfie and the CPR number the person typed (none for a person
// without one, who is then found by passport and gets a P-code). The server
// checks, in this order, and refuses at the first failure with a [Refusal]:
//
//  1. passive authentication of the files against the CSCA trust list
//     (the SOD's signature, the document signer's chain and validity, every
//     data group's hash), with DG1 and DG2 present, and DG15 where the
//     SOD lists it;
//  2. active authentication of the answer against the challenge, with the
//     key in DG15; or, for a chip without DG15, chip authentication (ICAO
//     9303 part 11, section 6.2) with the key in DG14: the app asks for a
//     run ([Service.StartChipAuthentication]), whose terminal key derives
//     from the service's secret, the case, its challenge and the chip's
//     key, and sends the chip's answer to a READ BINARY of DG1 under the
//     session keys. A copied chip cannot answer either;
//  3. the scanned MRZ against DG1, the document's type (a passport) and its
//     expiry;
//  4. the person in the population register: the CPR number exists and the
//     MRZ's names (transliterated as ICAO 9303 part 3, section 6, has them)
//     and date of birth are the register's;
//  5. the age rules: under 13 no identity; 13 and 14 only with a guardian
//     from the register who has an active identity with an app; 15 and over
//     as an adult;
//  6. no second enrolment: the person has no identity that is not revoked;
//  7. the face: DG2's portrait against the selfie, through a [face.Verifier].
//
// A case that passes waits, where it must, for a caseworker's decision on
// the face ([Service.DecideReview]) and for the guardian's consent (an
// approval request of kind consent, answered in the guardian's own app), and
// is then ready: the person chooses a user ID and a password, and the app's
// device key is registered with a proof of possession ([Service.Complete]).
// The identity, the app and the case's decision are one transaction with
// their audit events.
//
// # Why substantial and not high
//
// An identity proofed this way gets IAL substantial, not high. Passive and
// active authentication prove a genuine, uncopied chip issued by a trusted
// state; the register ties it to the CPR number. What ties it to the person
// holding the phone is the face comparison of a selfie taken remotely, with
// no one present to see that the person is who the selfie shows, which the
// NSIS (like eIDAS implementing regulation 2015/1502, section 2.1.2) accepts
// for substantial; high needs the person's presence before a caseworker, or
// remote proofing the scheme has certified as equivalent (see DESIGN.md: in
// person with a document check gives high). A deployment whose face
// verification is so certified may set [Config].IAL.
//
// # What the case keeps
//
// The case keeps the document's type, number, issuing state, nationality
// and expiry, each check's result, the face result (outcome, score,
// liveness, verifier) and the decision with its reason, not the chip's
// files. The portrait and the selfie are kept, sealed under the KEK, only
// while a caseworker's review is pending, and are deleted in the
// transaction that records the decision (or the case's expiry).
package proofing
