package exec

import (
	"strings"

	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// json_agg, jsonb_agg, json_object_agg and jsonb_object_agg, as
// PostgreSQL builds them: every value (NULL as null) converted as
// to_json does; json keeps the input order and its own spacing, jsonb is
// canonical (an object's keys sorted, a repeated key's last value kept).

func resolveJSONAgg(a *AggFunc) *AggFunc {
	a.NonStrict = true
	text := a.Name == "json_agg"
	a.Ret = tJSONB
	if text {
		a.Ret = types.Make(types.JSONOID)
	}
	t := a.Arg
	a.New = func() Accumulator { return &jsonAggAcc{t: t, text: text} }
	return a
}

type jsonAggAcc struct {
	t     types.T
	text  bool
	elems []*jsonValue
	raw   []string // json_agg: each value's text
	seen  bool
}

func (a *jsonAggAcc) Add(env *Env, v types.Datum) error {
	a.seen = true
	if a.text && a.t.OID == types.JSONOID && v != nil {
		a.raw = append(a.raw, string(v.(types.JSON)))
		return nil
	}
	jv, err := toJSON(a.t, v, settingsOf(env))
	if err != nil {
		return err
	}
	if a.text {
		a.raw = append(a.raw, string(jv.appendTo(nil)))
		return nil
	}
	a.elems = append(a.elems, jv)
	return nil
}

func (a *jsonAggAcc) Result(*Env) (types.Datum, error) {
	if !a.seen {
		return nil, nil
	}
	if a.text {
		return types.JSON("[" + strings.Join(a.raw, ", ") + "]"), nil
	}
	return (&jsonValue{kind: jArray, arr: a.elems}).jsonb(), nil
}

// JSONAggOf is json_agg (jsonb_agg unless text) of vals, each of type t,
// in their order (a view's kept list, views/listagg.go).
func JSONAggOf(env *Env, t types.T, vals []types.Datum, text bool) (types.Datum, error) {
	a := &jsonAggAcc{t: t, text: text}
	for _, v := range vals {
		if err := a.Add(env, v); err != nil {
			return nil, err
		}
	}
	return a.Result(env)
}

// JSONObjectAgg is json_object_agg(key, value) (jsonb_object_agg with
// binary): its argument is a JSONPair of the two.
func JSONObjectAgg(binary bool) *AggFunc {
	a := &AggFunc{Name: "json_object_agg", Arg: tText, Ret: types.Make(types.JSONOID), NonStrict: true}
	if binary {
		a.Name, a.Ret = "jsonb_object_agg", tJSONB
	}
	a.New = func() Accumulator { return &jsonObjectAcc{binary: binary} }
	return a
}

// JSONPair evaluates an object aggregate's key and value together.
type JSONPair struct{ Key, Value Expr }

type jsonPair struct {
	key string
	val *jsonValue
	raw string // json: the value's text
}

func (p *JSONPair) Type() types.T  { return tText }
func (p *JSONPair) String() string { return p.Key.String() + ", " + p.Value.String() }
func (p *JSONPair) Eval(env *Env, row Row) (types.Datum, error) {
	k, err := p.Key.Eval(env, row)
	if err != nil {
		return nil, err
	}
	if k == nil {
		return nil, pgerr.New(pgerr.InvalidParameterValue, "field name must not be null")
	}
	kt := p.Key.Type()
	kv, err := toJSON(kt, k, settingsOf(env))
	if err != nil {
		return nil, err
	}
	key := kv.str
	if kv.kind != jString {
		key = string(kv.appendTo(nil))
	}
	v, err := p.Value.Eval(env, row)
	if err != nil {
		return nil, err
	}
	vt := p.Value.Type()
	if vt.OID == types.JSONOID && v != nil {
		return &jsonPair{key: key, raw: string(v.(types.JSON))}, nil
	}
	jv, err := toJSON(vt, v, settingsOf(env))
	if err != nil {
		return nil, err
	}
	return &jsonPair{key: key, val: jv, raw: string(jv.appendTo(nil))}, nil
}

type jsonObjectAcc struct {
	binary bool
	pairs  []*jsonPair
	seen   bool
}

func (a *jsonObjectAcc) Add(_ *Env, v types.Datum) error {
	a.seen = true
	a.pairs = append(a.pairs, v.(*jsonPair))
	return nil
}

func (a *jsonObjectAcc) Result(*Env) (types.Datum, error) {
	if !a.seen {
		return nil, nil
	}
	if a.binary {
		m := map[string]*jsonValue{}
		for _, p := range a.pairs {
			v := p.val
			if v == nil {
				var err error
				if v, err = parseJSON(p.raw); err != nil {
					return nil, err
				}
			}
			m[p.key] = v
		}
		return newObject(m).jsonb(), nil
	}
	parts := make([]string, len(a.pairs))
	for i, p := range a.pairs {
		parts[i] = string(appendJSONString(nil, p.key)) + " : " + p.raw
	}
	return types.JSON("{ " + strings.Join(parts, ", ") + " }"), nil
}
