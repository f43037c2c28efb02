# help.awk - a manual page rendered by groff -Tascii (no overstriking) as
# the C string tiny_help, which -h/--help prints (lib/err.c): the page's
# running head and foot and the blank lines around the text are dropped.
NR == 1 && /^TINY-/ { next }
{ line[++n] = $0 }
END {
	while (n > 0 && (line[n] ~ /^tiny / || line[n] ~ /^ *$/))
		n--
	for (s = 1; s <= n && line[s] ~ /^ *$/; s++)
		;
	print "const char tiny_help[] ="
	for (i = s; i <= n; i++) {
		t = line[i]
		gsub(/\\/, "\\\\", t)
		gsub(/"/, "\\\"", t)
		print "\t\"" t "\\n\""
	}
	print ";"
}
