// Command shape prints size and portability figures of the code, for the next engineer: the longest
// functions, the size of cmd/, how many files spell the spec key renamedFrom, and whether every
// package builds for Linux, macOS and Windows. Run it from the repository root, through
// scripts/shape.sh or `make shape`; `--check` makes it exit 1 when a figure is over its limit.
//
// Definitions:
//   - product: every non-test .go file of the module outside scripts/, testdata/ and hidden folders;
//   - a function's length: the lines from its `func` keyword to its closing brace (doc comment not
//     included); methods count as functions, function literals as part of their function;
//   - spelling renamedFrom: the key appears in a string literal or struct tag of a non-test .go file
//     of spec/ or schema/ (comments do not count).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Limits checked by --check.
const (
	maxProductFunc = 120  // lines of the longest product function
	maxCmdFunc     = 60   // lines of the longest function in cmd/
	maxCmdLines    = 2500 // lines of non-test Go in cmd/
	maxRenamedFrom = 2    // non-test files of spec/ and schema/ spelling renamedFrom
)

// fn is one function declaration.
type fn struct {
	name  string
	file  string
	line  int
	lines int
}

func (f fn) String() string {
	return fmt.Sprintf("%4d lines  %s:%d %s", f.lines, f.file, f.line, f.name)
}

func main() {
	check := flag.Bool("check", false, "exit 1 when a figure is over its limit")
	noBuild := flag.Bool("no-build", false, "skip the three GOOS builds")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go run ./scripts/shape [--check] [--no-build]   (from the repository root)")
		flag.PrintDefaults()
	}
	flag.Parse()
	if _, err := os.Stat("go.mod"); err != nil {
		fmt.Fprintln(os.Stderr, "shape: run from the repository root (no go.mod here)")
		os.Exit(2)
	}

	files, err := goFiles(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, "shape:", err)
		os.Exit(2)
	}
	fset := token.NewFileSet()
	var product, cmd []fn
	cmdLines := 0
	var renamed []string
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "shape:", err)
			os.Exit(2)
		}
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			fmt.Fprintln(os.Stderr, "shape: cannot parse (counted as 0 functions):", err)
			continue
		}
		fns := funcs(fset, path, f)
		product = append(product, fns...)
		if under(path, "cmd") {
			cmd = append(cmd, fns...)
			cmdLines += bytes.Count(src, []byte("\n"))
			if len(src) > 0 && src[len(src)-1] != '\n' {
				cmdLines++
			}
		}
		if (under(path, "spec") || under(path, "schema")) && spellsKey(f, "renamedFrom") {
			renamed = append(renamed, path)
		}
	}
	byLength := func(s []fn) {
		sort.SliceStable(s, func(i, j int) bool {
			if s[i].lines != s[j].lines {
				return s[i].lines > s[j].lines
			}
			if s[i].file != s[j].file {
				return s[i].file < s[j].file
			}
			return s[i].line < s[j].line
		})
	}
	byLength(product)
	byLength(cmd)

	var over []string
	fmt.Println("deskfleet shape (non-test Go; scripts/ excluded)")
	fmt.Println()
	longest := func(what string, s []fn, limit int) {
		if len(s) == 0 {
			fmt.Printf("longest function, %s: none\n", what)
			return
		}
		fmt.Printf("longest function, %-8s %s   (limit %d)\n", what+":", s[0], limit)
		if s[0].lines > limit {
			over = append(over, fmt.Sprintf("longest %s function %d lines > %d", what, s[0].lines, limit))
		}
	}
	longest("product", product, maxProductFunc)
	longest("cmd/", cmd, maxCmdFunc)
	fmt.Printf("non-test Go lines in cmd/: %d   (limit %d)\n", cmdLines, maxCmdLines)
	if cmdLines > maxCmdLines {
		over = append(over, fmt.Sprintf("cmd/ has %d lines > %d", cmdLines, maxCmdLines))
	}
	fmt.Printf("files of spec/ and schema/ spelling renamedFrom: %d   (limit %d)", len(renamed), maxRenamedFrom)
	if len(renamed) > 0 {
		fmt.Printf(": %s", strings.Join(renamed, ", "))
	}
	fmt.Println()
	if len(renamed) > maxRenamedFrom {
		over = append(over, fmt.Sprintf("%d files spell renamedFrom > %d", len(renamed), maxRenamedFrom))
	}

	fmt.Println()
	if *noBuild {
		fmt.Println("builds: skipped (--no-build)")
	} else {
		var failures []string
		fmt.Print("builds (go build ./...):")
		for _, goos := range []string{"linux", "darwin", "windows"} {
			ok, out := build(goos)
			verdict := "ok"
			if !ok {
				verdict = "FAIL"
				over = append(over, "GOOS="+goos+" build fails")
			}
			fmt.Printf("  %s %s", goos, verdict)
			if !ok {
				failures = append(failures, fmt.Sprintf("GOOS=%s go build ./...:\n%s", goos, firstLines(out, 8)))
			}
		}
		fmt.Println()
		for _, f := range failures {
			fmt.Print(f)
		}
	}

	fmt.Println()
	list := func(title string, s []fn, limit int) {
		var long []fn
		for _, f := range s {
			if f.lines > limit {
				long = append(long, f)
			}
		}
		fmt.Printf("%s over %d lines: %d\n", title, limit, len(long))
		for _, f := range long {
			fmt.Println("  " + f.String())
		}
	}
	list("product functions", product, maxProductFunc)
	list("cmd/ functions", cmd, maxCmdFunc)

	if len(over) > 0 {
		fmt.Println()
		fmt.Println("over a limit: " + strings.Join(over, "; "))
	}
	if *check && len(over) > 0 {
		os.Exit(1)
	}
}

// goFiles lists the non-test .go files under root, skipping scripts/, testdata/, vendor/ and hidden
// or underscore folders (which the go tool ignores too), in a stable order.
func goFiles(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") ||
				strings.HasPrefix(name, "_") || filepath.ToSlash(path) == "scripts") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			out = append(out, filepath.ToSlash(path))
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// under reports whether path is inside the top-level folder dir.
func under(path, dir string) bool { return strings.HasPrefix(path, dir+"/") }

// funcs returns f's function and method declarations with their lengths.
func funcs(fset *token.FileSet, path string, f *ast.File) []fn {
	var out []fn
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		start, end := fset.Position(fd.Type.Func), fset.Position(fd.End())
		out = append(out, fn{name: funcName(fd), file: path, line: start.Line, lines: end.Line - start.Line + 1})
	}
	return out
}

// funcName is "Name" for a function and "Recv.Name" for a method.
func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	t := fd.Recv.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
			continue
		case *ast.IndexExpr:
			t = x.X
			continue
		case *ast.IndexListExpr:
			t = x.X
			continue
		case *ast.Ident:
			return x.Name + "." + fd.Name.Name
		}
		return fd.Name.Name
	}
}

// spellsKey reports whether key appears in a string literal (struct tags included) of f.
func spellsKey(f *ast.File, key string) bool {
	found := false
	ast.Inspect(f, func(n ast.Node) bool {
		if found {
			return false
		}
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING && strings.Contains(lit.Value, key) {
			found = true
		}
		return true
	})
	return found
}

// build runs `GOOS=goos go build ./...`, as `make cross` does, and returns whether it succeeded and
// its output.
func build(goos string) (bool, string) {
	c := exec.Command("go", "build", "./...")
	c.Env = append(os.Environ(), "GOOS="+goos)
	out, err := c.CombinedOutput()
	return err == nil, string(out)
}

// firstLines returns the first n lines of s, and a line saying how many were left out.
func firstLines(s string, n int) string {
	lines := strings.SplitAfter(strings.TrimRight(s, "\n"), "\n")
	if len(lines) <= n {
		return strings.Join(lines, "") + "\n"
	}
	return strings.Join(lines[:n], "") + fmt.Sprintf("\t... %d more lines\n", len(lines)-n)
}
