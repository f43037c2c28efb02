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
		# C escapes, one character at a time: gsub's replacement
		# strings treat backslashes differently in each awk
		t = ""
		for (k = 1; k <= length(line[i]); k++) {
			c = substr(line[i], k, 1)
			t = t (c == "\\" || c == "\"" ? "\\" : "") c
		}
		print "\t\"" t "\\n\""
	}
	print ";"
}
