package console

import (
	"errors"
	"net/http"

	"github.com/openmitid/openmitid/internal/proofing"
)

// reviews is the queue of passport enrolments waiting for a caseworker to
// compare the chip's portrait with the selfie, oldest first.
func (c *Console) reviews(w http.ResponseWriter, r *http.Request) {
	if c.unavailable(w, r) {
		return
	}
	s := sessionOf(r)
	list, err := c.cfg.Proofing.PendingReviews(r.Context(), 100)
	if err != nil {
		c.fail(w, r, s.lang, err)
		return
	}
	pg := c.newPage(s, "reviews", tr(s.lang, "console.reviews.title"))
	pg.Reviews = list
	c.render(w, r, http.StatusOK, pg)
}

// reviewCase returns a case waiting for review; any other is not found.
func (c *Console) reviewCase(w http.ResponseWriter, r *http.Request) *proofing.Case {
	if c.unavailable(w, r) {
		return nil
	}
	s := sessionOf(r)
	cs, err := c.cfg.Proofing.Case(r.Context(), r.PathValue("id"))
	if errors.Is(err, proofing.ErrCaseNotFound) || err == nil && cs.State != proofing.FaceReview {
		c.message(w, r, s.lang, http.StatusNotFound, "not_found")
		return nil
	}
	if err != nil {
		c.fail(w, r, s.lang, err)
		return nil
	}
	return cs
}

// review shows the chip's portrait and the selfie side by side. Browsers
// cannot show JPEG 2000, which many passports store: the page says so
// instead of showing a broken image.
func (c *Console) review(w http.ResponseWriter, r *http.Request) {
	cs := c.reviewCase(w, r)
	if cs == nil {
		return
	}
	s := sessionOf(r)
	im, err := c.cfg.Proofing.ReviewImages(r.Context(), cs.ID)
	if err != nil && !errors.Is(err, proofing.ErrNoImages) {
		c.fail(w, r, s.lang, err)
		return
	}
	pg := c.newPage(s, "review", tr(s.lang, "console.review.title"))
	pg.Case = cs
	if im != nil {
		pg.Portrait, pg.Selfie = im.PortraitType, im.SelfieType
	}
	c.render(w, r, http.StatusOK, pg)
}

// reviewImage serves one picture of a case waiting for review, to a
// session only and never cached; JPEG 2000 is not served (no browser shows it).
func (c *Console) reviewImage(w http.ResponseWriter, r *http.Request) {
	cs := c.reviewCase(w, r)
	if cs == nil {
		return
	}
	s := sessionOf(r)
	im, err := c.cfg.Proofing.ReviewImages(r.Context(), cs.ID)
	if errors.Is(err, proofing.ErrNoImages) {
		c.message(w, r, s.lang, http.StatusNotFound, "not_found")
		return
	}
	if err != nil {
		c.fail(w, r, s.lang, err)
		return
	}
	var body []byte
	var typ string
	switch r.PathValue("which") {
	case "portrait":
		body, typ = im.Portrait, im.PortraitType
	case "selfie":
		body, typ = im.Selfie, im.SelfieType
	}
	if typ != "image/jpeg" && typ != "image/png" {
		c.message(w, r, s.lang, http.StatusNotFound, "not_found")
		return
	}
	h := w.Header()
	h.Set("Content-Type", typ)
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("Content-Disposition", "inline")
	w.Write(body)
}

// decide is POST /operator/reviews/{id}: approve or reject.
func (c *Console) decide(w http.ResponseWriter, r *http.Request) {
	cs := c.reviewCase(w, r)
	if cs == nil {
		return
	}
	s := sessionOf(r)
	d := r.PostForm.Get("decision")
	if d != "approve" && d != "reject" {
		c.message(w, r, s.lang, http.StatusBadRequest, "bad_request")
		return
	}
	out, err := c.cfg.Proofing.DecideReview(r.Context(), cs.ID, d == "approve", s.op.Identity)
	if errors.Is(err, proofing.ErrWrongState) {
		c.message(w, r, s.lang, http.StatusConflict, "decided")
		return
	}
	if err != nil {
		c.fail(w, r, s.lang, err)
		return
	}
	pg := c.newPage(s, "message", tr(s.lang, "console.review.done"))
	pg.Lead = tr(s.lang, "console.review.done."+d)
	_ = out
	pg.Onward = "/operator/reviews"
	c.render(w, r, http.StatusOK, pg)
}
