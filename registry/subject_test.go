package registry

import "testing"

func TestSubjectPath(t *testing.T) {
	tests := []struct {
		arg, want string
		bad       bool
	}{
		{arg: "payments@2.4.0", want: "releases/payments/2.4.0.yaml"},
		{arg: "release/payments@2.4.0", want: "releases/payments/2.4.0.yaml"},
		{arg: "dml/payments-api@2.4.0", want: "dml/payments-api/2.4.0.yaml"},
		{arg: "schedule/production", want: "schedules/production.yaml"},
		{arg: "service/payments", want: "services/payments.yaml"},
		{arg: "registry", want: "relreg.yaml"},
		{arg: "approvers", want: "approvers.yaml"},
		{arg: "./releases/web/2.0.0.yaml", want: "releases/web/2.0.0.yaml"},
		{arg: "notes/x.yaml", bad: true},
		{arg: "nothing", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			got, err := SubjectPath(tt.arg)
			if tt.bad {
				if err == nil {
					t.Errorf("SubjectPath(%q) = %q, want an error", tt.arg, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("SubjectPath(%q) = %q, %v, want %q", tt.arg, got, err, tt.want)
			}
		})
	}
}
