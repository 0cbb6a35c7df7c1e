package emrtd

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// ImageFormat is the encoding of a portrait, told from the image's own
// magic bytes rather than from the record's claim.
type ImageFormat int

const (
	ImageJPEG     ImageFormat = 1 // ISO/IEC 10918 (JFIF)
	ImageJPEG2000 ImageFormat = 2 // ISO/IEC 15444 (JP2 file or codestream)
)

// String returns "JPEG" or "JPEG 2000".
func (f ImageFormat) String() string {
	switch f {
	case ImageJPEG:
		return "JPEG"
	case ImageJPEG2000:
		return "JPEG 2000"
	}
	return fmt.Sprintf("ImageFormat(%d)", int(f))
}

// MIMEType returns "image/jpeg" or "image/jp2".
func (f ImageFormat) MIMEType() string {
	if f == ImageJPEG2000 {
		return "image/jp2"
	}
	return "image/jpeg"
}

// Portrait is the first facial image of DG2.
type Portrait struct {
	Format        ImageFormat
	Width, Height int    // as the face record states them
	Image         []byte // the encoded image, aliasing the DG2 file
}

var (
	magicJPEG   = []byte{0xFF, 0xD8, 0xFF}
	magicJP2    = []byte{0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A}
	magicJ2K    = []byte{0xFF, 0x4F, 0xFF, 0x51}
	faceRecord  = []byte("FAC\x00")
	faceVersion = []byte("010\x00")
)

// ISO/IEC 19794-5:2005 record layout, section 5: a 14-byte general header,
// then per image a 20-byte facial information block, 8 bytes per feature
// point, a 12-byte image information block and the image data.
const (
	faceGeneralHeaderLen = 14
	faceInfoLen          = 20
	featurePointLen      = 8
	imageInfoLen         = 12
)

// ParseDG2 parses the DG2 file (ICAO 9303 part 10, section 4.7.2): tag 75,
// a biometric information group template 7F61 with its instance count, the
// first biometric information template 7F60, and in it a biometric data
// block (5F2E, or 7F2E when it holds a plain record) with an ISO/IEC
// 19794-5 face record, 'FAC\0'. It returns the first image of that record,
// which must be JPEG or JPEG 2000 by its magic bytes.
func ParseDG2(b []byte) (*Portrait, error) {
	if len(b) > maxDGSize {
		return nil, fmt.Errorf("%w: DG2 of %d bytes, more than %d", ErrLDS, len(b), maxDGSize)
	}
	outer, err := expectTLV(b, DG2.Tag(), "DG2", ErrLDS)
	if err != nil {
		return nil, err
	}
	group, err := onlyChild(outer, tagBIT, "DG2")
	if err != nil {
		return nil, err
	}
	entries, err := group.Children()
	if err != nil {
		return nil, fmt.Errorf("%w: DG2 group template: %w", ErrLDS, nested(err))
	}
	if len(entries) < 2 || entries[0].Tag != tagCount || len(entries[0].Value) != 1 || entries[0].Value[0] == 0 {
		return nil, fmt.Errorf("%w: DG2 group template does not start with a non-zero instance count (tag 02)", ErrLDS)
	}
	if int(entries[0].Value[0]) != len(entries)-1 {
		return nil, fmt.Errorf("%w: DG2 claims %d instances, holds %d", ErrLDS, entries[0].Value[0], len(entries)-1)
	}
	bit := entries[1]
	if bit.Tag != tagBITEntry {
		return nil, fmt.Errorf("%w: DG2 instance has tag %X, want 7F60", ErrLDS, bit.Tag)
	}
	parts, err := bit.Children()
	if err != nil {
		return nil, fmt.Errorf("%w: DG2 biometric information template: %w", ErrLDS, nested(err))
	}
	var block []byte
	for _, p := range parts {
		switch p.Tag {
		case tagBDB, tagBDBEnc:
			if block != nil {
				return nil, fmt.Errorf("%w: DG2 instance has two biometric data blocks", ErrLDS)
			}
			block = p.Value
		}
	}
	if block == nil {
		return nil, fmt.Errorf("%w: DG2 instance has no biometric data block (5F2E or 7F2E)", ErrLDS)
	}
	return parseFaceRecord(block)
}

func onlyChild(t TLV, tag uint32, what string) (TLV, error) {
	kids, err := t.Children()
	if err != nil {
		return TLV{}, fmt.Errorf("%w: %s: %w", ErrLDS, what, nested(err))
	}
	if len(kids) != 1 || kids[0].Tag != tag {
		return TLV{}, fmt.Errorf("%w: %s must hold exactly one object with tag %X", ErrLDS, what, tag)
	}
	return kids[0], nil
}

// parseFaceRecord reads an ISO/IEC 19794-5 facial record data block.
func parseFaceRecord(r []byte) (*Portrait, error) {
	if len(r) < faceGeneralHeaderLen+faceInfoLen+imageInfoLen {
		return nil, fmt.Errorf("%w: face record of %d bytes is shorter than its headers", ErrLDS, len(r))
	}
	if !bytes.Equal(r[0:4], faceRecord) {
		return nil, fmt.Errorf("%w: biometric data block starts % X, not the ISO/IEC 19794-5 'FAC\\0'", ErrLDS, r[0:4])
	}
	if !bytes.Equal(r[4:8], faceVersion) {
		return nil, fmt.Errorf("%w: face record version %q, want \"010\"", ErrLDS, bytes.TrimRight(r[4:8], "\x00"))
	}
	recordLen := binary.BigEndian.Uint32(r[8:12])
	if uint64(recordLen) > uint64(len(r)) || recordLen < faceGeneralHeaderLen {
		return nil, fmt.Errorf("%w: face record claims %d bytes, has %d", ErrLDS, recordLen, len(r))
	}
	r = r[:recordLen]
	if n := binary.BigEndian.Uint16(r[12:14]); n == 0 {
		return nil, fmt.Errorf("%w: face record holds no image", ErrLDS)
	}
	face := r[faceGeneralHeaderLen:]
	if len(face) < faceInfoLen {
		return nil, fmt.Errorf("%w: face record is cut off before its facial information", ErrLDS)
	}
	faceLen := uint64(binary.BigEndian.Uint32(face[0:4]))
	points := uint64(binary.BigEndian.Uint16(face[4:6]))
	head := faceInfoLen + featurePointLen*points + imageInfoLen
	if faceLen > uint64(len(face)) || faceLen < head {
		return nil, fmt.Errorf("%w: facial record claims %d bytes with %d feature points; %d are there", ErrLDS, faceLen, points, len(face))
	}
	info := face[faceInfoLen+featurePointLen*points:]
	p := &Portrait{
		Width:  int(binary.BigEndian.Uint16(info[2:4])),
		Height: int(binary.BigEndian.Uint16(info[4:6])),
		Image:  face[head:faceLen:faceLen],
	}
	switch {
	case bytes.HasPrefix(p.Image, magicJPEG):
		p.Format = ImageJPEG
	case bytes.HasPrefix(p.Image, magicJP2), bytes.HasPrefix(p.Image, magicJ2K):
		p.Format = ImageJPEG2000
	default:
		return nil, fmt.Errorf("%w: face image is neither JPEG nor JPEG 2000 (starts % X)", ErrLDS, p.Image[:min(len(p.Image), 4)])
	}
	return p, nil
}

// EncodeDG2 writes a DG2 file holding one portrait (ICAO 9303 part 10,
// section 4.7.2), with the biometric header template ICAO asks for
// (version 0101, type facial features, format owner ISO/IEC JTC 1/SC 37,
// format type face image) and an ISO/IEC 19794-5 record: a full frontal
// image without feature points.
func EncodeDG2(p *Portrait) ([]byte, error) {
	var imageType byte
	switch {
	case p.Format == ImageJPEG && bytes.HasPrefix(p.Image, magicJPEG):
		imageType = 0
	case p.Format == ImageJPEG2000 && (bytes.HasPrefix(p.Image, magicJP2) || bytes.HasPrefix(p.Image, magicJ2K)):
		imageType = 1
	default:
		return nil, fmt.Errorf("%w: portrait format %v does not match the image's magic bytes", ErrLDS, p.Format)
	}
	if p.Width <= 0 || p.Width > 0xFFFF || p.Height <= 0 || p.Height > 0xFFFF {
		return nil, fmt.Errorf("%w: portrait size %dx%d out of range", ErrLDS, p.Width, p.Height)
	}
	faceLen := faceInfoLen + imageInfoLen + len(p.Image)
	if faceGeneralHeaderLen+faceLen > maxDGSize {
		return nil, fmt.Errorf("%w: portrait of %d bytes does not fit DG2", ErrLDS, len(p.Image))
	}
	rec := make([]byte, 0, faceGeneralHeaderLen+faceLen)
	rec = append(rec, faceRecord...)
	rec = append(rec, faceVersion...)
	rec = binary.BigEndian.AppendUint32(rec, uint32(faceGeneralHeaderLen+faceLen))
	rec = binary.BigEndian.AppendUint16(rec, 1)
	// Facial information: length, no feature points, gender, eye and hair
	// colour unspecified, no properties, neutral expression, frontal pose.
	rec = binary.BigEndian.AppendUint32(rec, uint32(faceLen))
	rec = append(rec, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0)
	// Image information: full frontal, data type, size, colour space RGB24,
	// source type digital still camera, device type and quality unspecified.
	rec = append(rec, 1, imageType)
	rec = binary.BigEndian.AppendUint16(rec, uint16(p.Width))
	rec = binary.BigEndian.AppendUint16(rec, uint16(p.Height))
	rec = append(rec, 1, 2, 0, 0, 0, 0)
	rec = append(rec, p.Image...)

	var bht []byte
	bht = AppendTLV(bht, 0x80, []byte{0x01, 0x01}) // ICAO header version
	bht = AppendTLV(bht, 0x81, []byte{0x02})       // biometric type: facial features
	bht = AppendTLV(bht, 0x87, []byte{0x01, 0x01}) // format owner: ISO/IEC JTC 1/SC 37
	bht = AppendTLV(bht, 0x88, []byte{0x00, 0x08}) // format type: face image
	bit := AppendTLV(nil, tagBHT, bht)
	bit = AppendTLV(bit, tagBDB, rec)
	group := AppendTLV(nil, tagCount, []byte{1})
	group = AppendTLV(group, tagBITEntry, bit)
	return AppendTLV(nil, DG2.Tag(), AppendTLV(nil, tagBIT, group)), nil
}

// trimPrefix drops the package prefix of an inner error whose text goes
// into another error's.
func trimPrefix(err error) string {
	s := err.Error()
	const p = "emrtd: "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

// nestedError carries an inner error inside another of this package's
// errors: errors.Is still finds the inner sentinel, and the message does
// not repeat the package prefix.
type nestedError struct{ err error }

func (e nestedError) Error() string { return trimPrefix(e.err) }
func (e nestedError) Unwrap() error { return e.err }

func nested(err error) error { return nestedError{err} }
