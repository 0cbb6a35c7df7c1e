package testchip

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
)

// Portrait size: ICAO 9303 part 10 asks for at least 90 pixels between the
// eyes in a real portrait; a synthetic one only needs to be a recognisable
// face that a caseworker's screen and a face matcher can open.
const (
	faceWidth  = 240
	faceHeight = 320
)

// drawFace draws a simple synthetic face, its colours and proportions
// chosen by r, and encodes it as a baseline JPEG.
func drawFace(r *stream) ([]byte, error) {
	pick := func(lo, hi int) int { return lo + r.intn(hi-lo+1) }
	skins := []color.RGBA{{241, 194, 167, 255}, {224, 172, 105, 255}, {198, 134, 66, 255}, {141, 85, 36, 255}, {255, 219, 172, 255}}
	hairs := []color.RGBA{{40, 30, 20, 255}, {90, 60, 30, 255}, {200, 170, 90, 255}, {120, 120, 120, 255}, {150, 60, 30, 255}}
	eyes := []color.RGBA{{60, 90, 140, 255}, {70, 50, 30, 255}, {60, 110, 70, 255}}
	skin, hair, eye := skins[r.intn(len(skins))], hairs[r.intn(len(hairs))], eyes[r.intn(len(eyes))]
	bg := color.RGBA{uint8(pick(200, 235)), uint8(pick(205, 235)), uint8(pick(210, 240)), 255}
	cx, cy := faceWidth/2, faceHeight/2+10
	rx, ry := pick(62, 78), pick(88, 102)
	eyeDX, eyeY, eyeR := pick(24, 32), cy-pick(18, 28), pick(7, 10)
	mouthY, mouthW := cy+pick(40, 52), pick(22, 34)

	img := image.NewRGBA(image.Rect(0, 0, faceWidth, faceHeight))
	in := func(x, y, cx, cy, rx, ry int) bool {
		dx, dy := float64(x-cx)/float64(rx), float64(y-cy)/float64(ry)
		return dx*dx+dy*dy <= 1
	}
	for y := 0; y < faceHeight; y++ {
		for x := 0; x < faceWidth; x++ {
			c := bg
			switch {
			case in(x, y, cx, faceHeight+40, 110, 90): // shoulders
				c = color.RGBA{50, 60, 90, 255}
			case in(x, y, cx, cy-12, rx+10, ry+8) && y < cy-ry/3: // hair above the face
				c = hair
			}
			if in(x, y, cx, cy, rx, ry) {
				c = skin
				switch {
				case in(x, y, cx-eyeDX, eyeY, eyeR+4, eyeR), in(x, y, cx+eyeDX, eyeY, eyeR+4, eyeR):
					c = color.RGBA{250, 250, 250, 255}
					if in(x, y, cx-eyeDX, eyeY, eyeR/2+1, eyeR/2+1) || in(x, y, cx+eyeDX, eyeY, eyeR/2+1, eyeR/2+1) {
						c = eye
					}
				case y > eyeY-eyeR-9 && y < eyeY-eyeR-5 && (abs(x-(cx-eyeDX)) < eyeR+5 || abs(x-(cx+eyeDX)) < eyeR+5):
					c = hair // eyebrows
				case abs(x-cx) < 3 && y > eyeY+6 && y < mouthY-14: // nose
					c = shade(skin, 0.85)
				case in(x, y, cx, mouthY, mouthW, 5) && !in(x, y, cx, mouthY-4, mouthW, 5):
					c = color.RGBA{170, 70, 70, 255} // smile
				}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func shade(c color.RGBA, f float64) color.RGBA {
	return color.RGBA{uint8(float64(c.R) * f), uint8(float64(c.G) * f), uint8(float64(c.B) * f), 255}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
