# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Lua source -> C strings (xpro/build.mk): the lines before the first
# "--@ NAME" line are shared; each "--@ NAME" section becomes
#   const char NAME[] = <shared lines> <the section's lines>;
# Comment lines ("--" first) are left out of the strings.
function esc(s,    out, i, ch) {
	out = ""
	for (i = 1; i <= length(s); i++) {
		ch = substr(s, i, 1)
		if (ch == "\\" || ch == "\"")
			out = out "\\" ch
		else
			out = out ch
	}
	return out
}
BEGIN {
	name = ""
	print "/* Generated from xpro/master.lua by xpro/embed-lua.awk: do not edit. */"
	print "#define XPRO_LUA_SHARED \\"
}
/^--@ / {
	if (name == "")
		print "\"\""
	else
		print ";"
	name = $2
	printf "const char %s[] = XPRO_LUA_SHARED\n", name
	next
}
/^--/ { next }
{
	printf "\"%s\\n\"%s\n", esc($0), (name == "" ? " \\" : "")
}
END {
	if (name == "")
		print "\"\""
	print ";"
}
