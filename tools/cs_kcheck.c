// SPDX-License-Identifier: GPL-2.0
/*
 * cs_kcheck: closestat --check-kernel.
 *
 * kprobes bind to names: a kernel that renamed a probed function fails at
 * insmod, but one that reordered its arguments, or inlined it into its
 * callers while keeping an out-of-line copy under the same name, makes
 * the counts silently wrong.  This compares the module's hooks table
 * (uapi/linux/tcp_closestat_hooks.h, the one list module/probes.c is built
 * from) with a kernel's BTF and symbol tables:
 *
 *   a function  is a BTF FUNC (of that name, or the older name the table
 *               gives); its prototype has the arguments the handlers read,
 *               at their positions, with their types, each passed in a
 *               register (x86-64: the first six, scalars and pointers);
 *               the return value a kretprobe reads has its type; and, for
 *               the running kernel, /proc/kallsyms has exactly one text
 *               symbol of that name (a kprobe by name probes the first),
 *               not only compiler clones (name.isra.0), and it is not on
 *               the kprobe blacklist;
 *   a field     exists in its struct (through anonymous members) with its
 *               type, and at offset 0 where the table says first.
 *
 * Types compare after qualifiers (const, volatile): the table's C spelling
 * is parsed into pointers around a struct, union or enum by name, an
 * integer by size and signedness, or a typedef that must appear in the
 * member's typedef chain (__be16 is not __u16).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <linux/tcp_closestat_hooks.h>

#include "cs_btf.h"
#include "cs_kcheck.h"
#include "json_writer.h"

#define PROG		"closestat"
#define VMLINUX_BTF	"/sys/kernel/btf/vmlinux"
#define KALLSYMS	"/proc/kallsyms"
#define JSON_VERSION	1
#define NR_ARG_REGS	6	/* x86-64: rdi, rsi, rdx, rcx, r8, r9 */

/* The table, as strings. */
struct hook_func {
	const char *id, *kind, *name, *older;
};

struct hook_arg {
	const char *id;
	unsigned int index;
	const char *type;
};

struct hook_ret {
	const char *id, *type;
};

struct hook_field {
	const char *strct, *member, *type, *where;
};

#define TCS_HOOK_FUNC(id, kind, sym, older) { #id, #kind, sym, older },
#define TCS_HOOK_ARG(...)
#define TCS_HOOK_RET(...)
static const struct hook_func funcs[] = {
	TCS_HOOK_EXPAND(TCS_HOOK_STRIP TCS_HOOK_FUNCS)
};
#undef TCS_HOOK_FUNC
#undef TCS_HOOK_ARG
#define TCS_HOOK_FUNC(...)
#define TCS_HOOK_ARG(id, n, type) { #id, n, #type },
static const struct hook_arg args[] = {
	TCS_HOOK_EXPAND(TCS_HOOK_STRIP TCS_HOOK_FUNCS)
};
#undef TCS_HOOK_ARG
#undef TCS_HOOK_RET
#define TCS_HOOK_ARG(...)
#define TCS_HOOK_RET(id, type) { #id, #type },
static const struct hook_ret rets[] = {
	TCS_HOOK_EXPAND(TCS_HOOK_STRIP TCS_HOOK_FUNCS)
	{ NULL, NULL }		/* the table may have no RET */
};
#undef TCS_HOOK_FUNC
#undef TCS_HOOK_ARG
#undef TCS_HOOK_RET

#define TCS_HOOK_FIELD(s, m, type, where) { #s, #m, #type, #where },
static const struct hook_field fields[] = {
	TCS_HOOK_EXPAND(TCS_HOOK_STRIP TCS_HOOK_FIELDS)
};
#undef TCS_HOOK_FIELD

#define NR(a)		(sizeof(a) / sizeof((a)[0]))
#define NR_FUNCS	NR(funcs)

/* What the running kernel's symbol tables say about each function. */
struct syms {
	bool checked;			/* read /proc/kallsyms */
	unsigned int text[NR_FUNCS][2];	/* exact text symbols: name, older */
	char clone[NR_FUNCS][2][256];	/* name.suffix, if only that */
	int ftrace;			/* -1 unknown, else found */
	bool ftraced[NR_FUNCS][2];
	int blacklist;			/* -1 unknown, else read */
	bool blacklisted[NR_FUNCS][2];
};

/* One line of the report, gathered while checking. */
struct report {
	const char *kind;		/* "function" or "field" */
	char name[128];			/* "tcp_set_state", "sock.sk_protocol" */
	char ok[512];			/* what was expected (and matched) */
	char problems[1024];		/* "; "-separated, empty if ok */
};

__attribute__((format(printf, 2, 3)))
static void problem(struct report *r, const char *fmt, ...)
{
	size_t n = strlen(r->problems);
	va_list ap;

	if (n && n < sizeof(r->problems) - 2) {
		strcpy(r->problems + n, "; ");
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(r->problems + n, sizeof(r->problems) - n, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 2, 3)))
static void matched(struct report *r, const char *fmt, ...)
{
	size_t n = strlen(r->ok);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->ok + n, sizeof(r->ok) - n, fmt, ap);
	va_end(ap);
}

/*
 * A C type as the table spells it: "struct sock *", "unsigned char",
 * "__be16", "enum tcp_tw_status".
 */
struct ctype {
	unsigned int pointers;
	enum { C_VOID, C_INT, C_TAGGED, C_TYPEDEF } base;
	unsigned int tag_kind;		/* C_TAGGED: BTF_KIND_STRUCT, ... */
	unsigned int size;		/* C_INT */
	bool is_signed;			/* C_INT */
	char name[64];			/* C_TAGGED, C_TYPEDEF */
};

static int parse_ctype(const char *spelling, struct ctype *c)
{
	unsigned int shorts = 0, longs = 0, chars = 0, ints = 0;
	bool is_unsigned = false, is_signed = false, is_bool = false;
	char buf[128], *tok, *save;
	const char *tag = NULL;

	memset(c, 0, sizeof(*c));
	snprintf(buf, sizeof(buf), "%s", spelling);
	for (tok = buf + strlen(buf); tok > buf && (tok[-1] == '*' ||
						   isspace((unsigned char)tok[-1])); tok--)
		if (tok[-1] == '*')
			c->pointers++;
	*tok = '\0';
	for (tok = strtok_r(buf, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		if (tag && !c->name[0]) {
			snprintf(c->name, sizeof(c->name), "%s", tok);
		} else if (!strcmp(tok, "const") || !strcmp(tok, "volatile")) {
			continue;
		} else if (!strcmp(tok, "struct") || !strcmp(tok, "union") ||
			   !strcmp(tok, "enum")) {
			tag = tok;
		} else if (!strcmp(tok, "unsigned")) {
			is_unsigned = true;
		} else if (!strcmp(tok, "signed")) {
			is_signed = true;
		} else if (!strcmp(tok, "char")) {
			chars++;
		} else if (!strcmp(tok, "short")) {
			shorts++;
		} else if (!strcmp(tok, "int")) {
			ints++;
		} else if (!strcmp(tok, "long")) {
			longs++;
		} else if (!strcmp(tok, "_Bool") || !strcmp(tok, "bool")) {
			is_bool = true;
		} else if (!strcmp(tok, "void")) {
			c->base = C_VOID;
			return 0;
		} else if (!c->name[0]) {
			c->base = C_TYPEDEF;
			snprintf(c->name, sizeof(c->name), "%s", tok);
		} else {
			return -1;
		}
	}
	if (tag) {
		if (!c->name[0])
			return -1;
		c->base = C_TAGGED;
		c->tag_kind = !strcmp(tag, "struct") ? BTF_KIND_STRUCT :
			      !strcmp(tag, "union") ? BTF_KIND_UNION :
			      BTF_KIND_ENUM;
		return 0;
	}
	if (c->base == C_TYPEDEF)
		return (is_unsigned || is_signed || chars || shorts || ints ||
			longs || is_bool) ? -1 : 0;
	if (!is_unsigned && !is_signed && !chars && !shorts && !ints &&
	    !longs && !is_bool)
		return -1;
	c->base = C_INT;
	c->size = is_bool || chars ? 1 : shorts ? 2 : longs ? 8 : 4;
	/* plain char is signed on x86-64, like the kernel's BTF says */
	c->is_signed = !is_unsigned && !is_bool;
	return 0;
}

/* Whether BTF type @id is @c. */
static bool same_type(const struct cs_btf *btf, uint32_t id,
		      const struct ctype *want)
{
	struct ctype c = *want;
	const struct btf_type *t;
	uint32_t enc;

	for (; c.pointers; c.pointers--) {
		t = cs_btf_type(btf, cs_btf_skip(btf, id, 1));
		if (cs_btf_kind(t) != BTF_KIND_PTR)
			return false;
		id = t->type;
	}
	switch (c.base) {
	case C_TYPEDEF:
		while ((t = cs_btf_type(btf, id))) {
			if (cs_btf_kind(t) == BTF_KIND_TYPEDEF &&
			    !strcmp(cs_btf_str(btf, t->name_off), c.name))
				return true;
			if (cs_btf_kind(t) != BTF_KIND_TYPEDEF &&
			    cs_btf_skip(btf, id, 0) == id)
				return false;
			id = t->type;
		}
		return false;
	case C_VOID:
		return cs_btf_skip(btf, id, 1) == 0;
	case C_TAGGED:
		t = cs_btf_type(btf, cs_btf_skip(btf, id, 1));
		if (!t || strcmp(cs_btf_str(btf, t->name_off), c.name))
			return false;
		if (c.tag_kind == BTF_KIND_ENUM)
			return cs_btf_kind(t) == BTF_KIND_ENUM ||
			       cs_btf_kind(t) == BTF_KIND_ENUM64;
		return cs_btf_kind(t) == c.tag_kind ||
		       (c.tag_kind == BTF_KIND_STRUCT &&
			cs_btf_kind(t) == BTF_KIND_FWD);
	case C_INT:
		t = cs_btf_type(btf, cs_btf_skip(btf, id, 1));
		if (cs_btf_kind(t) != BTF_KIND_INT)
			return false;
		enc = *(const uint32_t *)(t + 1);
		return t->size == c.size &&
		       !!(BTF_INT_ENCODING(enc) & BTF_INT_SIGNED) == c.is_signed;
	}
	return false;
}

/* Whether BTF type @id is passed in one general-purpose register. */
static bool in_register(const struct cs_btf *btf, uint32_t id)
{
	const struct btf_type *t = cs_btf_type(btf, cs_btf_skip(btf, id, 1));

	switch (cs_btf_kind(t)) {
	case BTF_KIND_PTR:
		return true;
	case BTF_KIND_INT:
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		return t->size <= 8;
	default:
		return false;
	}
}

/* /proc/kallsyms, the ftrace list and the kprobe blacklist, once. */
static void read_syms(struct syms *s)
{
	static const char *const ftrace_paths[] = {
		"/sys/kernel/tracing/available_filter_functions",
		"/sys/kernel/debug/tracing/available_filter_functions",
	};
	char line[512], name[256], type;
	unsigned int i, k;
	FILE *f;

	memset(s, 0, sizeof(*s));
	s->ftrace = -1;
	s->blacklist = -1;

	f = fopen(KALLSYMS, "re");
	if (!f)
		return;
	s->checked = true;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %c %255s", &type, name) != 2 ||
		    !strchr("tTwW", type))
			continue;
		for (i = 0; i < NR_FUNCS; i++)
			for (k = 0; k < 2; k++) {
				const char *want = k ? funcs[i].older : funcs[i].name;
				size_t len = strlen(want);

				if (!len || strncmp(name, want, len))
					continue;
				if (!name[len])
					s->text[i][k]++;
				else if (name[len] == '.' && !s->clone[i][k][0])
					snprintf(s->clone[i][k], sizeof(s->clone[i][k]),
						 "%s", name);
			}
	}
	fclose(f);

	for (f = NULL, i = 0; !f && i < NR(ftrace_paths); i++)
		f = fopen(ftrace_paths[i], "re");
	if (f) {
		s->ftrace = 1;
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%255s", name) != 1)
				continue;
			for (i = 0; i < NR_FUNCS; i++)
				for (k = 0; k < 2; k++)
					if (!strcmp(name, k ? funcs[i].older : funcs[i].name))
						s->ftraced[i][k] = true;
		}
		fclose(f);
	}

	f = fopen("/sys/kernel/debug/kprobes/blacklist", "re");
	if (f) {
		s->blacklist = 1;
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%*s %255s", name) != 1)
				continue;
			for (i = 0; i < NR_FUNCS; i++)
				for (k = 0; k < 2; k++)
					if (!strcmp(name, k ? funcs[i].older : funcs[i].name))
						s->blacklisted[i][k] = true;
		}
		fclose(f);
	}
}

static void check_func(const struct cs_btf *btf, const struct syms *syms,
		       unsigned int i, struct report *r)
{
	const struct hook_func *fn = &funcs[i];
	const struct btf_param *params;
	const struct btf_type *proto;
	const char *name = fn->name;
	uint32_t id, other;
	unsigned int k = 0, j, p, vlen;
	char have[256];
	struct ctype c;
	bool first = true;

	id = cs_btf_find(btf, BTF_KIND_FUNC, fn->name, 0);
	if (!id && *fn->older) {
		id = cs_btf_find(btf, BTF_KIND_FUNC, fn->older, 0);
		if (id) {
			name = fn->older;
			k = 1;
		}
	}
	r->kind = "function";
	snprintf(r->name, sizeof(r->name), "%s", name);
	matched(r, "%s", fn->kind);
	if (k)
		matched(r, " (the older name of %s)", fn->name);

	if (!id) {
		if (*fn->older)
			problem(r, "neither it nor %s is a function in the kernel's BTF",
				fn->older);
		else
			problem(r, "not a function in the kernel's BTF");
	}
	if (syms->checked) {
		if (!syms->text[i][k] && syms->clone[i][k][0])
			problem(r, "only %s in %s (a compiler clone, probably with another calling convention)",
				syms->clone[i][k], KALLSYMS);
		else if (!syms->text[i][k])
			problem(r, "not in %s (renamed, or inlined into every caller)",
				KALLSYMS);
		else if (syms->text[i][k] > 1)
			problem(r, "%u functions of that name in %s: a kprobe by name probes only the first",
				syms->text[i][k], KALLSYMS);
		if (syms->blacklisted[i][k])
			problem(r, "on the kprobe blacklist");
	}
	if (!id)
		return;
	other = cs_btf_find(btf, BTF_KIND_FUNC, name, id);
	if (other)
		problem(r, "several functions named %s in BTF", name);

	proto = cs_btf_type(btf, cs_btf_type(btf, id)->type);
	if (cs_btf_kind(proto) != BTF_KIND_FUNC_PROTO) {
		problem(r, "BTF has no prototype for it");
		return;
	}
	params = (const void *)(proto + 1);
	vlen = cs_btf_vlen(proto);

	for (j = 0; j < NR(args); j++) {
		if (strcmp(args[j].id, fn->id))
			continue;
		p = args[j].index;
		if (parse_ctype(args[j].type, &c)) {
			problem(r, "the table's type '%s' is not understood",
				args[j].type);
			continue;
		}
		matched(r, "%s arg %u %s", first ? ";" : ",", p, args[j].type);
		first = false;
		if (p >= vlen || (p == vlen - 1 && !params[p].type)) {
			problem(r, "arg %u: it has %u arguments", p, vlen);
			continue;
		}
		if (p >= NR_ARG_REGS) {
			problem(r, "arg %u is not passed in a register", p);
			continue;
		}
		if (!same_type(btf, params[p].type, &c)) {
			cs_btf_spell(btf, params[p].type, have, sizeof(have));
			problem(r, "arg %u is %s, expected %s", p, have,
				args[j].type);
		}
		while (p--)
			if (!in_register(btf, params[p].type)) {
				cs_btf_spell(btf, params[p].type, have,
					     sizeof(have));
				problem(r, "arg %u (%s) is not passed in one register: the later ones move",
					p, have);
				break;
			}
	}
	for (j = 0; rets[j].id; j++) {
		if (strcmp(rets[j].id, fn->id))
			continue;
		matched(r, "%s returns %s", first ? ";" : ",", rets[j].type);
		first = false;
		if (parse_ctype(rets[j].type, &c)) {
			problem(r, "the table's type '%s' is not understood",
				rets[j].type);
		} else if (!same_type(btf, proto->type, &c)) {
			cs_btf_spell(btf, proto->type, have, sizeof(have));
			problem(r, "returns %s, expected %s", have, rets[j].type);
		}
	}
	if (syms->ftrace == 1 && syms->text[i][k] && !syms->ftraced[i][k])
		matched(r, " (not in available_filter_functions: the kprobe uses a breakpoint)");
}

/*
 * Member @name of struct or union @id, looked for through anonymous
 * members; its type in *@type and offset in bits in *@bits.
 */
static bool find_member(const struct cs_btf *btf, uint32_t id,
			const char *name, uint32_t *type, uint64_t *bits,
			unsigned int depth)
{
	const struct btf_type *t = cs_btf_type(btf, cs_btf_skip(btf, id, 1));
	const struct btf_member *m;
	unsigned int i, kind = cs_btf_kind(t);

	if ((kind != BTF_KIND_STRUCT && kind != BTF_KIND_UNION) || depth > 8)
		return false;
	m = (const void *)(t + 1);
	for (i = 0; i < cs_btf_vlen(t); i++) {
		/* with kind_flag, the low 24 bits are the offset */
		uint64_t off = BTF_INFO_KFLAG(t->info) ?
			       BTF_MEMBER_BIT_OFFSET(m[i].offset) : m[i].offset;

		if (!m[i].name_off) {
			if (find_member(btf, m[i].type, name, type, bits,
					depth + 1)) {
				*bits += off;
				return true;
			}
		} else if (!strcmp(cs_btf_str(btf, m[i].name_off), name)) {
			*type = m[i].type;
			*bits = off;
			return true;
		}
	}
	return false;
}

static void check_field(const struct cs_btf *btf, const struct hook_field *f,
			struct report *r)
{
	uint32_t id = 0, type;
	uint64_t bits;
	char have[256];
	struct ctype c;

	r->kind = "field";
	snprintf(r->name, sizeof(r->name), "%s.%s", f->strct, f->member);
	matched(r, "%s", f->type);
	if (!strcmp(f->where, "first"))
		matched(r, ", first");
	/* a struct may appear more than once (declared only, then defined) */
	while ((id = cs_btf_find(btf, BTF_KIND_STRUCT, f->strct, id)) &&
	       !cs_btf_vlen(cs_btf_type(btf, id)))
		;
	if (!id) {
		problem(r, "no struct %s in the kernel's BTF", f->strct);
		return;
	}
	if (!find_member(btf, id, f->member, &type, &bits, 0)) {
		if (!strcmp(f->where, "ipv6")) {
			matched(r, " (absent: a kernel without IPv6; the module built for it does not read it)");
			return;
		}
		problem(r, "struct %s has no member %s", f->strct, f->member);
		return;
	}
	if (parse_ctype(f->type, &c)) {
		problem(r, "the table's type '%s' is not understood", f->type);
		return;
	}
	if (!same_type(btf, type, &c)) {
		cs_btf_spell(btf, type, have, sizeof(have));
		problem(r, "is %s, expected %s", have, f->type);
	}
	if (!strcmp(f->where, "first") && bits)
		problem(r, "at byte %llu, not first",
			(unsigned long long)(bits / 8));
}

/* "ok    function tcp_set_state: ..." or "FAIL  field sock.sk_protocol: ..." */
static void emit(FILE *out, struct jsonw *w, const struct report *r)
{
	if (!w) {
		fprintf(out, "%-5s %s %s: %s\n", *r->problems ? "FAIL" : "ok",
			r->kind, r->name, *r->problems ? r->problems : r->ok);
		return;
	}
	jsonw_start_object(w);
	jsonw_string_field(w, "kind", r->kind);
	jsonw_string_field(w, "name", r->name);
	jsonw_string_field(w, "status", *r->problems ? "FAIL" : "ok");
	jsonw_string_field(w, "expected", r->ok);
	jsonw_string_field(w, "problems", r->problems);
	jsonw_end_object(w);
}

int cs_kcheck(FILE *out, const struct cs_kcheck_opts *opts)
{
	const char *path = opts->btf ? opts->btf : VMLINUX_BTF;
	unsigned int i, failed = 0, n = 0;
	struct jsonw json, *w = NULL;
	struct report r;
	struct utsname u;
	struct cs_btf btf;
	struct syms syms;
	char err[512];

	if (cs_btf_open(&btf, path, err, sizeof(err))) {
		fprintf(stderr, PROG ": %s%s\n", err,
			opts->btf || errno != ENOENT ? "" :
			" (a kernel without CONFIG_DEBUG_INFO_BTF cannot be checked)");
		return -1;
	}
	if (opts->btf)
		memset(&syms, 0, sizeof(syms));
	else
		read_syms(&syms);
	if (uname(&u))
		snprintf(u.release, sizeof(u.release), "?");

	if (opts->json) {
		w = &json;
		jsonw_init(w, out);
		jsonw_start_object(w);
		jsonw_u64_field(w, "version", JSON_VERSION);
		jsonw_string_field(w, "btf", path);
		if (!opts->btf)
			jsonw_string_field(w, "kernel", u.release);
		jsonw_string_field(w, "symbols", syms.checked ? KALLSYMS : "");
		jsonw_name(w, "checks");
		jsonw_start_array(w);
	}
	for (i = 0; i < NR_FUNCS; i++, n++) {
		memset(&r, 0, sizeof(r));
		check_func(&btf, &syms, i, &r);
		failed += !!*r.problems;
		emit(out, w, &r);
	}
	for (i = 0; i < NR(fields); i++, n++) {
		memset(&r, 0, sizeof(r));
		check_field(&btf, &fields[i], &r);
		failed += !!*r.problems;
		emit(out, w, &r);
	}
	if (w) {
		jsonw_end_array(w);
		jsonw_u64_field(w, "checked", n);
		jsonw_u64_field(w, "failed", failed);
		jsonw_end_object(w);
	} else {
		fprintf(out, "%s: %s: %u functions, %u fields: %s", PROG,
			opts->btf ? path : u.release, (unsigned int)NR_FUNCS,
			(unsigned int)NR(fields), failed ? "" : "all ok");
		if (failed)
			fprintf(out, "%u of %u do not match", failed, n);
		if (!syms.checked)
			fprintf(out, opts->btf ? " (BTF only: symbols not checked)" :
				" (%s unreadable: symbols not checked)", KALLSYMS);
		fputc('\n', out);
	}
	cs_btf_close(&btf);
	return failed;
}
