package main

// subcommandTable maps the two-word commands to their functions.
func subcommandTable() map[string]subcommand {
	return map[string]subcommand{}
}
