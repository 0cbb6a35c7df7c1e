package emrtd

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
)

// cmac computes AES-CMAC (RFC 4493, section 2.4; NIST SP 800-38B) of msg
// under the block cipher b, the full 16-byte tag. Secure messaging with AES
// truncates it to 8 bytes (ICAO 9303 part 11, section 9.8.6.2).
func cmac(b cipher.Block, msg []byte) []byte {
	k1, k2 := cmacSubkeys(b)
	n := (len(msg) + aes.BlockSize - 1) / aes.BlockSize
	last := make([]byte, aes.BlockSize)
	if n > 0 && len(msg)%aes.BlockSize == 0 {
		subtle.XORBytes(last, msg[(n-1)*aes.BlockSize:], k1)
	} else {
		if n == 0 {
			n = 1
		}
		rest := msg[(n-1)*aes.BlockSize:]
		copy(last, rest)
		last[len(rest)] = 0x80
		subtle.XORBytes(last, last, k2)
	}
	x := make([]byte, aes.BlockSize)
	for i := 0; i < n-1; i++ {
		subtle.XORBytes(x, x, msg[i*aes.BlockSize:(i+1)*aes.BlockSize])
		b.Encrypt(x, x)
	}
	subtle.XORBytes(x, x, last)
	b.Encrypt(x, x)
	return x
}

// cmacSubkeys generates K1 and K2 (RFC 4493, section 2.3).
func cmacSubkeys(b cipher.Block) (k1, k2 []byte) {
	l := make([]byte, aes.BlockSize)
	b.Encrypt(l, l)
	return cmacDouble(l), cmacDouble(cmacDouble(l))
}

// cmacDouble multiplies by x in GF(2^128): a left shift, then Rb = 0x87
// folded in when the top bit fell off. The fold is masked rather than
// branched on, as the bit depends on the key.
func cmacDouble(in []byte) []byte {
	out := make([]byte, len(in))
	msb := in[0] >> 7
	for i := 0; i < len(in)-1; i++ {
		out[i] = in[i]<<1 | in[i+1]>>7
	}
	out[len(in)-1] = in[len(in)-1]<<1 ^ (0x87 & -msb)
	return out
}
