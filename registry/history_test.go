package registry

import (
	"path/filepath"
	"testing"

	"github.com/go-git/go-git/v5"
)

func TestFirstParentsAndChangedFiles(t *testing.T) {
	root := t.TempDir()
	g, err := git.PlainInit(root, false)
	if err != nil {
		t.Fatal(err)
	}
	commitFiles(t, g, root, map[string]string{"reg/relreg.yaml": "a: 1\n", "README.md": "x\n"}, "one")
	commitFiles(t, g, root, map[string]string{"reg/services/payments.yaml": "a: 1\n", "README.md": "y\n"}, "two")
	commitFiles(t, g, root, map[string]string{"reg/relreg.yaml": "a: 2\n"}, "three")
	repo, err := OpenRepo(filepath.Join(root, "reg"), "")
	if err != nil {
		t.Fatal(err)
	}
	head, err := repo.Resolve("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	commits, err := repo.FirstParents(head)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, c := range commits {
		msgs = append(msgs, c.Message)
	}
	if got, want := len(msgs), 3; got != want || msgs[0] != "one" || msgs[2] != "three" {
		t.Fatalf("FirstParents = %q, want one, two, three", msgs)
	}
	tests := []struct {
		name     string
		from     int // index into commits, -1 for none
		to       int
		want     []string
		wantFrom []bool // whether From is set
	}{
		{"root", -1, 0, []string{"relreg.yaml"}, []bool{false}},
		{"add service, README outside the registry", 0, 1, []string{"services/payments.yaml"}, []bool{false}},
		{"modify config", 1, 2, []string{"relreg.yaml"}, []bool{true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var from = commits[0]
			if tt.from < 0 {
				from = nil
			} else {
				from = commits[tt.from]
			}
			got, err := repo.ChangedFiles(from, commits[tt.to])
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("ChangedFiles = %+v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i].Path != tt.want[i] || (got[i].From != "") != tt.wantFrom[i] || got[i].To == "" {
					t.Errorf("ChangedFiles[%d] = %+v, want path %s (from set: %v)", i, got[i], tt.want[i], tt.wantFrom[i])
				}
			}
		})
	}
}
