package registry

import _ "github.com/rogpeppe/go-internal/testscript"
