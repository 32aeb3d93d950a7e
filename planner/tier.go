package planner

import (
	"time"

	"github.com/strand-db/strand/sql/pgerr"
)

// optLocalRetention is the table option that sets how long a table's
// events stay in the local log once they are in Iceberg (the compactor's
// tiering, iceberg/tier.go; it names the option the same).
const optLocalRetention = "local_retention"

// checkLocalRetention validates a local_retention value: a Go duration
// ('0s', '90m', '24h') or 'off'.
func checkLocalRetention(v string) error {
	if v == "off" {
		return nil
	}
	if d, err := time.ParseDuration(v); err != nil || d < 0 {
		return pgerr.New(pgerr.InvalidParameterValue, "invalid value for parameter %q: %q (want a duration such as '1h', or 'off')", optLocalRetention, v)
	}
	return nil
}
