package localmail

// Notice is what local mode tells the person who started it, once, at
// start (kawaraban prints it boxed on stdout): that mail is captured in
// capturedDir and not delivered, the first admin's one-time password when
// it was just created (password "" when not), and last the address it
// listens on, so that whoever waits for that line has read the others.
func Notice(baseURL, capturedDir, password string) []string {
	lines := []string{"LOCAL MODE: mail is captured in " + capturedDir + ", NOT delivered"}
	if password != "" {
		lines = append(lines, "first start: created user admin with one-time password "+password,
			"log in at "+baseURL+"/admin/login and choose a new password;",
			"this password is shown only once (lost it? kawaraban user reset-password --login admin)")
	}
	return append(lines, "kawaraban listening on "+baseURL)
}
