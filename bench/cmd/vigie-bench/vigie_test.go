package main

import "testing"

func TestCheckAnswer(t *testing.T) {
	good := []searchRecord{{ID: 9, Host: "web01", Message: "tok seq=9 kestrel x"}, {ID: 5, Host: "web01", Message: "tok seq=5 kestrel"}}
	for _, q := range []string{"kestrel", "tok", "host:web01"} {
		if err := checkAnswer(q, good); err != nil {
			t.Errorf("checkAnswer(%q): %v", q, err)
		}
	}
	if err := checkAnswer("kestrel", []searchRecord{{ID: 5, Message: "kestrel"}, {ID: 9, Message: "kestrel"}}); err == nil {
		t.Error("oldest first: no error")
	}
	if err := checkAnswer("kestrel", []searchRecord{{ID: 5, Message: "kestrels nest"}}); err == nil {
		t.Error("record without the word: no error")
	}
	if err := checkAnswer("host:web02", good); err == nil {
		t.Error("wrong host: no error")
	}
}
