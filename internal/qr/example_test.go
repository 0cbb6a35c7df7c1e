package qr_test

import (
	"fmt"
	"strings"

	"github.com/openmitid/openmitid/internal/qr"
)

func ExampleEncode() {
	c, err := qr.Encode([]byte("openmitid1.aZ3kq9Lm0PXvYtR2sDf8Wq.137.mCV9CoF17FfyGUxDY4CFyg"), qr.M)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Version(), c.Size(), c.Level())
	// Output: 4 33 M
}

func ExampleCode_SVG() {
	c, err := qr.Encode([]byte("openmitid1.aZ3kq9Lm0PXvYtR2sDf8Wq.137.mCV9CoF17FfyGUxDY4CFyg"), qr.M)
	if err != nil {
		fmt.Println(err)
		return
	}
	var svg strings.Builder
	if err := c.SVG(&svg, qr.SVGOptions{Label: "QR-kode til MitID-appen"}); err != nil {
		fmt.Println(err)
		return
	}
	// The opening tag; then come the background and the path.
	fmt.Println(strings.SplitAfter(svg.String(), ">")[0])
	// Output: <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 41 41" role="img" aria-label="QR-kode til MitID-appen" shape-rendering="crispEdges">
}
