package registry

import (
	"reflect"
	"strings"
	"sync"
)

// decodeValue fills the struct pointed to by dst from a JSON value as the
// strict loader produces it (map[string]any, []any, string, int64, float64,
// bool, nil), matching fields by their json tags. It is lenient the way
// encoding/json is: a value of the wrong type leaves the field zero, since
// the schema rule reports it. It replaces a json.Marshal and Unmarshal round
// trip, which cost a fifth of loading a large registry.
func decodeValue(dst any, v any) {
	assign(reflect.ValueOf(dst).Elem(), v)
}

func assign(dst reflect.Value, v any) {
	if v == nil {
		return
	}
	switch dst.Kind() {
	case reflect.String:
		if s, ok := v.(string); ok {
			dst.SetString(s)
		}
	case reflect.Bool:
		if b, ok := v.(bool); ok {
			dst.SetBool(b)
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		switch n := v.(type) {
		case int64:
			dst.SetInt(n)
		case float64:
			if n == float64(int64(n)) {
				dst.SetInt(int64(n))
			}
		}
	case reflect.Pointer:
		p := reflect.New(dst.Type().Elem())
		assign(p.Elem(), v)
		dst.Set(p)
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			return
		}
		s := reflect.MakeSlice(dst.Type(), len(list), len(list))
		for i, e := range list {
			assign(s.Index(i), e)
		}
		dst.Set(s)
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return
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
	}
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
