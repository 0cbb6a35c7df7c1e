package qr

// Reed–Solomon error correction over GF(256), ISO/IEC 18004:2015, 7.5.2 and
// Annex A.

// primitive is the field's generator polynomial x^8 + x^4 + x^3 + x^2 + 1
// (7.5.2: "bit-wise modulo 2 arithmetic and byte-wise modulo 100011101
// arithmetic").
const primitive = 0x11d

// gfExp[i] is α^i and gfLog[a] is i with α^i = a, where α = 2. gfExp is
// doubled in length so that a product needs no reduction modulo 255.
var gfExp, gfLog = gfTables()

func gfTables() (exp [510]byte, log [256]byte) {
	x := 1
	for i := 0; i < 255; i++ {
		exp[i] = byte(x)
		exp[i+255] = byte(x)
		log[x] = byte(i)
		x <<= 1
		if x&0x100 != 0 {
			x ^= primitive
		}
	}
	return exp, log
}

func gfMul(a, b byte) byte {
	if a == 0 || b == 0 {
		return 0
	}
	return gfExp[int(gfLog[a])+int(gfLog[b])]
}

// generators[n] is the generator polynomial of degree n, (x - α^0)(x - α^1)
// … (x - α^(n-1)) (Annex A), as its coefficients below the leading 1,
// highest degree first. Table 9 uses only the even degrees 7 to 30 and 7, 13,
// 15 and 17; computing all of them costs a few microseconds once.
var generators = func() (g [31][]byte) {
	for n := 1; n < len(g); n++ {
		g[n] = generatorPolynomial(n)
	}
	return g
}()

func generatorPolynomial(n int) []byte {
	// p holds the coefficients, highest degree first, including the leading 1.
	p := make([]byte, 1, n+1)
	p[0] = 1
	for i := 0; i < n; i++ {
		// Multiply by (x - α^i); in GF(2^8) subtraction is addition (XOR).
		root := gfExp[i]
		p = append(p, 0)
		for j := len(p) - 1; j > 0; j-- {
			p[j] ^= gfMul(p[j-1], root)
		}
	}
	return p[1:]
}

// ecCodewords writes into ec the error correction codewords of data: the
// remainder of data(x)·x^len(ec) divided by the generator polynomial of degree
// len(ec) (7.5.2). The division runs as a shift register so that no
// polynomial is ever allocated.
func ecCodewords(data, ec []byte) {
	gen := generators[len(ec)]
	clear(ec)
	for _, d := range data {
		factor := d ^ ec[0]
		copy(ec, ec[1:])
		ec[len(ec)-1] = 0
		if factor == 0 {
			continue
		}
		lf := int(gfLog[factor])
		for j, c := range gen {
			if c != 0 {
				ec[j] ^= gfExp[lf+int(gfLog[c])]
			}
		}
	}
}
