package localmail

import (
	"reflect"
	"testing"
)

func TestNotice(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, password string
		want           []string
	}{
		{"admin existed", "", []string{
			"LOCAL MODE: mail is captured in data/captured, NOT delivered",
			"kawaraban listening on http://127.0.0.1:8080",
		}},
		{"first start", "pw-once", []string{
			"LOCAL MODE: mail is captured in data/captured, NOT delivered",
			"first start: created user admin with one-time password pw-once",
			"log in at http://127.0.0.1:8080/admin/login and choose a new password;",
			"this password is shown only once (lost it? kawaraban user reset-password --login admin)",
			"kawaraban listening on http://127.0.0.1:8080",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := Notice("http://127.0.0.1:8080", "data/captured", c.password); !reflect.DeepEqual(got, c.want) {
				t.Errorf("Notice:\n%q\nwant:\n%q", got, c.want)
			}
		})
	}
}
