package registry

import (
	"reflect"
	"strings"
	"sync"
)

// decodeValue fills the struct pointed to by dst from a JSON value as the
// strict loader produces it (map[string]any, []any, string, int64, float64,
// bool, nil), matching fields by their json tags. It is lenient: a value of
// the wrong type leaves the field zero, since the schema rule reports it.
// Unlike encoding/json it leaves a pointer field nil then too, so that later
// rules see the part as absent rather than as present and empty. It
// replaces a json.Marshal and Unmarshal round trip, which cost a fifth of
// loading a large registry.
func decodeValue(dst any, v any) {
	assign(reflect.ValueOf(dst).Elem(), v)
}

// assign stores v in dst and reports whether it did: a struct from a
// mapping, a slice from a list, a scalar from a value of its type.
func assign(dst reflect.Value, v any) bool {
	if v == nil {
		return false
	}
	switch dst.Kind() {
	case reflect.String:
		if s, ok := v.(string); ok {
			dst.SetString(s)
			return true
		}
	case reflect.Bool:
		if b, ok := v.(bool); ok {
			dst.SetBool(b)
			return true
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		switch n := v.(type) {
		case int64:
			dst.SetInt(n)
			return true
		case float64:
			if n == float64(int64(n)) {
				dst.SetInt(int64(n))
				return true
			}
		}
	case reflect.Pointer:
		p := reflect.New(dst.Type().Elem())
		if assign(p.Elem(), v) {
			dst.Set(p)
			return true
		}
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			return false
		}
		s := reflect.MakeSlice(dst.Type(), len(list), len(list))
		for i, e := range list {
			assign(s.Index(i), e)
		}
		dst.Set(s)
		return true
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		for _, f := range fieldsOf(dst.Type()) {
			if f.embedded {
				assign(dst.Field(f.index), v)
				continue
			}
			if fv, ok := m[f.name]; ok {
				assign(dst.Field(f.index), fv)
			}
		}
		return true
	}
	return false
}

type fieldInfo struct {
	name     string
	index    int
	embedded bool
}

var fieldCache sync.Map // reflect.Type -> []fieldInfo

func fieldsOf(t reflect.Type) []fieldInfo {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]fieldInfo)
	}
	var fs []fieldInfo
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			fs = append(fs, fieldInfo{index: i, embedded: true})
			continue
		}
		if name == "" {
			name = f.Name
		}
		fs = append(fs, fieldInfo{name: name, index: i})
	}
	fieldCache.Store(t, fs)
	return fs
}
