package exec

import "github.com/strand-db/strand/sql/types"

// appendHashKey encodes v so that equal values (as = sees them: 1.0 and
// 1.00 are equal numerics) encode equally. The order-preserving key
// encoding has that property.
func appendHashKey(buf []byte, t types.T, v types.Datum) []byte {
	return types.AppendKey(buf, t, v)
}
