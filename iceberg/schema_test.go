package iceberg

import (
	"testing"

	"github.com/strand-db/strand/sql/types"
)

func TestIcebergType(t *testing.T) {
	for _, c := range []struct {
		typ  string
		want string
	}{
		{"boolean", "boolean"},
		{"smallint", "int"},
		{"integer", "int"},
		{"bigint", "long"},
		{"oid", "long"},
		{"real", "float"},
		{"double precision", "double"},
		{"numeric(12,2)", "decimal(12, 2)"},
		{"numeric(38,0)", "decimal(38, 0)"},
		{"numeric", "string"},
		{"numeric(50,2)", "string"},
		{"numeric(3,-2)", "string"},
		{"text", "string"},
		{"varchar(10)", "string"},
		{"char(3)", "string"},
		{"bytea", "binary"},
		{"date", "date"},
		{"time", "time"},
		{"timestamp", "timestamp"},
		{"timestamptz", "timestamptz"},
		{"interval", "string"},
		{"uuid", "uuid"},
		{"jsonb", "string"},
		{"bigint[]", "list<long>"},
	} {
		typ, err := types.ParseTypeName(c.typ)
		if err != nil {
			t.Fatal(err)
		}
		it, err := IcebergType(typ, 7)
		if err != nil {
			t.Fatalf("%s: %v", c.typ, err)
		}
		if it.String() != c.want {
			t.Errorf("%s maps to %s, want %s", c.typ, it, c.want)
		}
	}
}
