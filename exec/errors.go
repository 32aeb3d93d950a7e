package exec

import "github.com/strand-db/strand/sql/pgerr"

func pgErr(code pgerr.Code, format string, args ...any) error {
	return pgerr.New(code, format, args...)
}
