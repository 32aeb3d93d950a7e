package exec

import (
	"strings"

	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// The JSON set-returning functions: json(b)_array_elements[_text],
// json(b)_object_keys and json(b)_each[_text]. The jsonb ones work on the
// normalized value; the json ones on the text as written, as PostgreSQL's
// do: an element or value is given back with its own spacing, and an
// object's keys in their order, duplicates included.

// JSONSetFuncs are the JSON set-returning functions, each with the type of
// its argument and whether its rows are (key, value) records.
var JSONSetFuncs = map[string]struct {
	Arg    types.OID
	Record bool
}{
	"jsonb_array_elements": {types.JSONBOID, false}, "jsonb_array_elements_text": {types.JSONBOID, false},
	"json_array_elements": {types.JSONOID, false}, "json_array_elements_text": {types.JSONOID, false},
	"jsonb_object_keys": {types.JSONBOID, false}, "json_object_keys": {types.JSONOID, false},
	"jsonb_each": {types.JSONBOID, true}, "jsonb_each_text": {types.JSONBOID, true},
	"json_each": {types.JSONOID, true}, "json_each_text": {types.JSONOID, true},
}

// JSONSetFuncType is the type of a JSON set-returning function's values
// (for json(b)_each[_text], the value field of its records).
func JSONSetFuncType(name string) types.T {
	switch {
	case strings.HasSuffix(name, "_text"), strings.HasSuffix(name, "_keys"):
		return tText
	case strings.HasPrefix(name, "jsonb"):
		return types.Make(types.JSONBOID)
	}
	return types.Make(types.JSONOID)
}

// jsonItem is one element of an array, or one key and value of an
// object: the value parsed, and (for json) its text as written.
type jsonItem struct {
	key string
	v   *jsonValue
	raw string
}

// jsonSetIter starts a JSON set-returning function over its argument.
func jsonSetIter(name string, arg types.Datum) (setIter, error) {
	if arg == nil {
		return emptySet, nil
	}
	var items []jsonItem
	var kind jsonKind
	if j, ok := arg.(types.JSONB); ok {
		v, err := parseJSON(string(j))
		if err != nil {
			return nil, err
		}
		kind = v.kind
		switch v.kind {
		case jArray:
			for _, e := range v.arr {
				items = append(items, jsonItem{v: e})
			}
		case jObject:
			for i, k := range v.keys {
				items = append(items, jsonItem{key: k, v: v.vals[i]})
			}
		}
	} else {
		var err error
		if kind, items, err = rawJSONItems(string(arg.(types.JSON))); err != nil {
			return nil, err
		}
	}
	// What the function is, read from its name once (not per value).
	jsonb := strings.HasPrefix(name, "jsonb")
	asText := strings.HasSuffix(name, "_text")
	base := strings.TrimSuffix(name, "_text")
	keys, each := strings.HasSuffix(base, "_keys"), strings.HasSuffix(base, "_each")
	switch {
	case strings.HasSuffix(base, "_array_elements"):
		switch {
		case kind == jObject && jsonb:
			return nil, pgerr.New(pgerr.InvalidParameterValue, "cannot extract elements from an object")
		case kind != jArray && jsonb:
			return nil, pgerr.New(pgerr.InvalidParameterValue, "cannot extract elements from a scalar")
		case kind == jObject:
			return nil, pgerr.New(pgerr.InvalidParameterValue, "cannot call %s on a non-array", name)
		case kind != jArray:
			return nil, pgerr.New(pgerr.InvalidParameterValue, "cannot call %s on a scalar", name)
		}
	case kind == jArray && keys:
		return nil, pgerr.New(pgerr.InvalidParameterValue, "cannot call %s on an array", name)
	case kind != jObject && keys:
		return nil, pgerr.New(pgerr.InvalidParameterValue, "cannot call %s on a scalar", name)
	case kind != jObject:
		return nil, pgerr.New(pgerr.InvalidParameterValue, "cannot call %s on a non-object", name)
	}
	value := func(it jsonItem) types.Datum {
		switch {
		case asText && !jsonb && it.v.kind != jString && it.v.kind != jNull:
			return it.raw
		case asText:
			return it.v.text()
		case jsonb:
			return it.v.jsonb()
		}
		return types.JSON(it.raw)
	}
	var recordTypes []types.T
	if each {
		recordTypes = []types.T{tText, JSONSetFuncType(name)}
	}
	i := 0
	return func() (types.Datum, bool, error) {
		if i >= len(items) {
			return nil, false, nil
		}
		it := items[i]
		i++
		switch {
		case keys:
			return it.key, true, nil
		case each:
			return &types.Record{Types: recordTypes, Fields: []types.Datum{it.key, value(it)}}, true, nil
		}
		return value(it), true, nil
	}, nil
}

// rawJSONItems reads a json text's top-level array elements or object
// members, each value with its text as written (trimmed of the spaces
// around it).
func rawJSONItems(s string) (jsonKind, []jsonItem, error) {
	r := &jsonReader{s: s}
	r.space()
	if r.i >= len(s) || (s[r.i] != '[' && s[r.i] != '{') {
		v, err := parseJSON(s)
		if err != nil {
			return 0, nil, err
		}
		return v.kind, nil, nil
	}
	kind, end := jArray, byte(']')
	if s[r.i] == '{' {
		kind, end = jObject, '}'
	}
	r.i++
	var items []jsonItem
	r.space()
	if r.i < len(s) && s[r.i] == end {
		r.i++
	} else {
		for {
			var it jsonItem
			if kind == jObject {
				r.space()
				if r.i >= len(s) || s[r.i] != '"' {
					return 0, nil, invalidJSON("Expected string.")
				}
				k, err := r.str()
				if err != nil {
					return 0, nil, err
				}
				r.space()
				if r.i >= len(s) || s[r.i] != ':' {
					return 0, nil, invalidJSON("Expected \":\".")
				}
				r.i++
				it.key = k
			}
			r.space()
			start := r.i
			v, err := r.value()
			if err != nil {
				return 0, nil, err
			}
			it.v, it.raw = v, s[start:r.i]
			items = append(items, it)
			r.space()
			if r.i < len(s) && s[r.i] == ',' {
				r.i++
				continue
			}
			if r.i < len(s) && s[r.i] == end {
				r.i++
				break
			}
			return 0, nil, invalidJSON("Expected \",\" or \"" + string(end) + "\".")
		}
	}
	r.space()
	if r.i != len(s) {
		return 0, nil, invalidJSON("Expected end of input.")
	}
	return kind, items, nil
}
