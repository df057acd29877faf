// compose-check validates docker-compose.yml offline with compose-go, the loader of `docker
// compose` itself: the Compose Specification schema, interpolation, merges (YAML anchors, `<<`),
// and the model's consistency (depends_on naming services, volumes declared, ...). Prints the
// resolved model's services, like `docker compose config --services`.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-check <docker-compose.yml>")
		os.Exit(2)
	}
	file, _ := filepath.Abs(os.Args[1])
	opts, err := cli.NewProjectOptions([]string{file},
		cli.WithWorkingDirectory(filepath.Dir(file)),
		cli.WithOsEnv,
		cli.WithDotEnv,
		cli.WithName("turnpike"),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "invalid:", err)
		os.Exit(1)
	}
	names := project.ServiceNames()
	sort.Strings(names)
	for _, n := range names {
		s := project.Services[n]
		deps := []string{}
		for d, c := range s.DependsOn {
			deps = append(deps, d+"="+c.Condition)
		}
		sort.Strings(deps)
		health := s.HealthCheck != nil && len(s.HealthCheck.Test) > 0
		fmt.Printf("%s healthcheck=%v depends_on=%v\n", n, health, deps)
	}
}
