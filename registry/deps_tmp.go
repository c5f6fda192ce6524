package registry

// Temporary: keeps the contract's dependencies in go.mod while the packages
// that use them are written in parallel. Removed once they are all imported.
import (
	_ "github.com/Masterminds/semver/v3"
	_ "github.com/go-git/go-git/v5"
	_ "github.com/gowebpki/jcs"
	_ "github.com/hiddeco/sshsig"
	_ "github.com/santhosh-tekuri/jsonschema/v5"
	_ "golang.org/x/crypto/ssh"
	_ "sigs.k8s.io/yaml"
)
