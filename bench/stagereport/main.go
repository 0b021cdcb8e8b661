package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "stagereport:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: stagereport value|tables [flags] (see the package documentation)")
	}
	fs := flag.NewFlagSet("stagereport "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	switch args[0] {
	case "value":
		file := fs.String("file", "", "JSON log or JSON document")
		msg := fs.String("msg", "", "log message of the line to read (empty: the file is one JSON object)")
		where := fs.String("where", "", "key=value the line must also have")
		key := fs.String("key", "", "field to print")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *file == "" || *key == "" {
			return errors.New("value: -file and -key are required")
		}
		q := fieldQuery{msg: *msg, key: *key}
		if *where != "" {
			k, v, ok := strings.Cut(*where, "=")
			if !ok || k == "" {
				return fmt.Errorf("value: -where %q: want key=value", *where)
			}
			q.whereKey, q.whereValue = k, v
		}
		f, err := os.Open(*file)
		if err != nil {
			return err
		}
		defer f.Close()
		v, err := lookupValue(f, *file, q)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, v)
		return err
	case "tables":
		in := fs.String("in", "", "measurements file (tab-separated)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		f, err := os.Open(*in)
		if err != nil {
			return err
		}
		defer f.Close()
		ms, err := parseMeasurements(f, *in)
		if err != nil {
			return err
		}
		return writeTables(stdout, ms)
	}
	return fmt.Errorf("unknown subcommand %q, want value or tables", args[0])
}
