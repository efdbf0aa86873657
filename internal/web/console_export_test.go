package web

import "time"

// SetCountBudget changes the time the queue's badges may take (countBudget)
// until the returned function restores it. Tests that check the counts
// give them plenty, so a loaded machine cannot make them fail; one test
// gives them none, to see the page go out without them.
func SetCountBudget(d time.Duration) (restore func()) {
	old := countBudget
	countBudget = d
	return func() { countBudget = old }
}

// SetMaxMessages sets how many messages a ticket page shows, for tests
// of a conversation longer than a page.
func SetMaxMessages(n int) (restore func()) {
	old := maxMessages
	maxMessages = n
	return func() { maxMessages = old }
}
