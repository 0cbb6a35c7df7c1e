// Package robustness holds the tests that run the real binary the way a
// deployment does and then hurt it: several nodes on one PostgreSQL database
// behind a round-robin load balancer, a node killed with SIGKILL while it
// writes, PostgreSQL restarted under load, and attackers beside honest users.
// It has no code of its own; see docs/performance.md ("Robustness") for what
// each test measures and how to run them.
//
// The tests start several processes and measure rates, so they run on their
// own, after the other packages: only with OPENMITID_ROBUSTNESS=1 (make
// robustness, which make test and CI run).
package robustness
