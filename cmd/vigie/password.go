package main

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

func hashPassword(stdin io.Reader, stdout io.Writer) error {
	line, err := bufio.NewReader(io.LimitReader(stdin, 1024)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	pw := strings.TrimRight(line, "\r\n")
	if len(pw) < 8 {
		return exitError{2, errors.New("hash-password: give a password of at least 8 characters on stdin")}
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, string(h))
	return nil
}

// randomPassword makes a password for the first admin user: 20 characters
// from an alphabet without look-alikes, about 110 bits.
func randomPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	return pick(alphabet, 20)
}

func pick(alphabet string, n int) string {
	b := make([]byte, n)
	buf := make([]byte, n)
	rand.Read(buf)
	for i := range b {
		// 256 % 56 != 0 skews a little; redraw the high values to stay uniform.
		for buf[i] >= byte(256-256%len(alphabet)) {
			one := make([]byte, 1)
			rand.Read(one)
			buf[i] = one[0]
		}
		b[i] = alphabet[int(buf[i])%len(alphabet)]
	}
	return string(b)
}
