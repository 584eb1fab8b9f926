// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of cs_btf, KTAP output (kselftest.h): a small BTF built here,
 * raw and inside an ELF file, then the same damaged in every way the
 * reader checks for.  Real kernels' BTF is checked in the test guest
 * (selftests/check_kernel.sh).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest.h"
#include "cs_btf.h"

/* The BTF of:
 *	typedef unsigned short __u16;
 *	struct s { union { int a; struct s *b; }; __u16 x; };
 *	int f(const struct s *p, int n);
 */
enum {
	T_INT = 1, T_USHORT, T_U16, T_S, T_ANON, T_PTR, T_PROTO, T_F,
	T_CONST, T_CPTR, NR_T
};

static const char strs[] =
	"\0int\0unsigned short\0__u16\0s\0a\0b\0x\0f\0p\0n";
#define S_INT		1
#define S_USHORT	5
#define S_U16		20
#define S_S		26
#define S_A		28
#define S_B		30
#define S_X		32
#define S_F		34
#define S_P		36
#define S_N		38

/* as the kernel's tools/testing/selftests/bpf/test_btf.h encodes them */
#define BTF_INFO_ENC(kind, kflag, vlen) \
	((!!(kflag) << 31) | ((kind) << 24) | ((vlen) & BTF_MAX_VLEN))
#define BTF_INT_ENC(encoding, bits_offset, nr_bits) \
	((encoding) << 24 | (bits_offset) << 16 | (nr_bits))

static uint32_t types[64];
static size_t ntypes;		/* words */

static void word(uint32_t w)
{
	types[ntypes++] = w;
}

static void type(uint32_t name, unsigned int kind, unsigned int vlen,
		 uint32_t size_or_type)
{
	word(name);
	word(BTF_INFO_ENC(kind, 0, vlen));
	word(size_or_type);
}

static void build_types(void)
{
	ntypes = 0;
	type(S_INT, BTF_KIND_INT, 0, 4);		/* 1 int */
	word(BTF_INT_ENC(BTF_INT_SIGNED, 0, 32));
	type(S_USHORT, BTF_KIND_INT, 0, 2);		/* 2 unsigned short */
	word(BTF_INT_ENC(0, 0, 16));
	type(S_U16, BTF_KIND_TYPEDEF, 0, T_USHORT);	/* 3 __u16 */
	type(S_S, BTF_KIND_STRUCT, 2, 16);		/* 4 struct s */
	word(0), word(T_ANON), word(0);
	word(S_X), word(T_U16), word(64);
	type(0, BTF_KIND_UNION, 2, 8);			/* 5 the union */
	word(S_A), word(T_INT), word(0);
	word(S_B), word(T_PTR), word(0);
	type(0, BTF_KIND_PTR, 0, T_S);			/* 6 struct s * */
	type(0, BTF_KIND_FUNC_PROTO, 2, T_INT);		/* 7 int (...) */
	word(S_P), word(T_CPTR);
	word(S_N), word(T_INT);
	type(S_F, BTF_KIND_FUNC, 0, T_PROTO);		/* 8 f */
	type(0, BTF_KIND_CONST, 0, T_S);		/* 9 const struct s */
	type(0, BTF_KIND_PTR, 0, T_CONST);		/* 10 const struct s * */
}

static char blob[4096];
static size_t blob_len;

/* header, types, strings; @cut bytes off the type section's end */
static void build_blob(size_t cut, size_t str_len)
{
	struct btf_header h = {
		.magic = BTF_MAGIC,
		.version = BTF_VERSION,
		.hdr_len = sizeof(h),
		.type_off = 0,
		.type_len = ntypes * 4 - cut,
		.str_off = ntypes * 4 - cut,
		.str_len = str_len,
	};

	memcpy(blob, &h, sizeof(h));
	memcpy(blob + sizeof(h), types, h.type_len);
	memcpy(blob + sizeof(h) + h.type_len, strs, sizeof(strs));
	blob_len = sizeof(h) + h.type_len + str_len;
}

static char path[] = "/tmp/test_btf.XXXXXX";
static struct cs_btf btf;
static char err[512];

static int open_bytes(const void *data, size_t len)
{
	FILE *f = fopen(path, "we");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f))
		ksft_exit_fail_perror(path);
	return cs_btf_open(&btf, path, err, sizeof(err));
}

static bool spells(uint32_t id, const char *want)
{
	char buf[128];

	cs_btf_spell(&btf, id, buf, sizeof(buf));
	if (strcmp(buf, want)) {
		ksft_print_msg("type %u: got '%s', want '%s'\n", id, buf, want);
		return false;
	}
	return true;
}

static bool good_btf_is_read(void)
{
	bool ok;

	build_types();
	build_blob(0, sizeof(strs));
	if (open_bytes(blob, blob_len)) {
		ksft_print_msg("%s\n", err);
		return false;
	}
	ok = btf.nr_types == NR_T &&
	     cs_btf_find(&btf, BTF_KIND_FUNC, "f", 0) == T_F &&
	     cs_btf_find(&btf, BTF_KIND_FUNC, "f", T_F) == 0 &&
	     cs_btf_find(&btf, BTF_KIND_STRUCT, "s", 0) == T_S &&
	     cs_btf_find(&btf, BTF_KIND_TYPEDEF, "s", 0) == 0 &&
	     cs_btf_skip(&btf, T_CONST, 0) == T_S &&
	     cs_btf_skip(&btf, T_U16, 1) == T_USHORT &&
	     cs_btf_skip(&btf, T_U16, 0) == T_U16 &&
	     cs_btf_kind(cs_btf_type(&btf, T_PROTO)) == BTF_KIND_FUNC_PROTO &&
	     cs_btf_vlen(cs_btf_type(&btf, T_PROTO)) == 2 &&
	     cs_btf_type(&btf, 0) == NULL && cs_btf_type(&btf, NR_T) == NULL &&
	     !strcmp(cs_btf_str(&btf, S_X), "x") &&
	     !strcmp(cs_btf_str(&btf, 9999), "");
	ok = spells(T_PTR, "struct s *") && ok;
	ok = spells(T_CPTR, "const struct s *") && ok;
	ok = spells(T_U16, "__u16") && ok;
	ok = spells(T_ANON, "union (anonymous)") && ok;
	ok = spells(0, "void") && ok;
	cs_btf_close(&btf);
	return ok;
}

/* The same BTF as the .BTF section of an ELF file, after another. */
static bool btf_in_elf_is_read(void)
{
	static const char shstr[] = "\0.BTF_ids\0.BTF\0.shstrtab";
	static char elf[8192];
	Elf64_Ehdr *eh = (void *)elf;
	Elf64_Shdr *sh;
	size_t off = sizeof(*eh);
	bool ok;

	build_types();
	build_blob(0, sizeof(strs));
	memset(elf, 0, sizeof(elf));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	memcpy(elf + off, shstr, sizeof(shstr));	/* at 64 */
	memcpy(elf + 128, blob, blob_len);		/* at 128 */
	off = (128 + blob_len + 7) & ~7UL;
	eh->e_shoff = off;
	eh->e_shentsize = sizeof(*sh);
	eh->e_shnum = 4;
	eh->e_shstrndx = 3;
	sh = (void *)(elf + off);
	sh[1] = (Elf64_Shdr){ .sh_name = 1, .sh_offset = 128, .sh_size = 4 };
	sh[2] = (Elf64_Shdr){ .sh_name = 10, .sh_offset = 128, .sh_size = blob_len };
	sh[3] = (Elf64_Shdr){ .sh_name = 15, .sh_offset = 64, .sh_size = sizeof(shstr) };
	if (open_bytes(elf, off + 4 * sizeof(*sh))) {
		ksft_print_msg("%s\n", err);
		return false;
	}
	ok = btf.nr_types == NR_T &&
	     cs_btf_find(&btf, BTF_KIND_FUNC, "f", 0) == T_F;
	cs_btf_close(&btf);

	sh[2].sh_name = 2;				/* "BTF_ids": none */
	if (!open_bytes(elf, off + 4 * sizeof(*sh))) {
		ksft_print_msg("an ELF file without .BTF: accepted\n");
		cs_btf_close(&btf);
		return false;
	}
	return strstr(err, "without a .BTF section") && ok;
}

/* open_bytes() of the damaged blob fails, saying @want. */
static bool refused(const char *what, const char *want)
{
	if (!open_bytes(blob, blob_len)) {
		ksft_print_msg("%s: accepted\n", what);
		cs_btf_close(&btf);
		return false;
	}
	if (!strstr(err, want)) {
		ksft_print_msg("%s: '%s' does not say '%s'\n", what, err, want);
		return false;
	}
	return true;
}

static bool damaged_btf_is_refused(void)
{
	struct btf_header *h = (void *)blob;
	bool ok = true;

	build_types();
	build_blob(4, sizeof(strs));		/* the last record cut short */
	ok = refused("short type section", "damaged BTF type section") && ok;

	build_blob(0, sizeof(strs));
	h->magic = 0x9feb;
	ok = refused("other byte order", "other byte order") && ok;
	h->magic = 0x1234;
	ok = refused("bad magic", "not BTF") && ok;

	build_blob(0, sizeof(strs));
	h->str_len += 100;			/* past the end of the file */
	ok = refused("strings past the end", "damaged BTF header") && ok;

	build_blob(0, sizeof(strs) - 1);	/* no final NUL */
	ok = refused("unterminated strings", "damaged BTF strings") && ok;

	build_types();
	types[1] = BTF_INFO_ENC(31, 0, 0);	/* no such kind */
	build_blob(0, sizeof(strs));
	ok = refused("unknown kind", "damaged BTF type section") && ok;

	build_types();
	types[12] = BTF_INFO_ENC(BTF_KIND_STRUCT, 0, 1000);	/* struct s */
	build_blob(0, sizeof(strs));
	ok = refused("vlen past the end", "damaged BTF type section") && ok;

	blob_len = 10;
	ok = refused("short file", "not BTF (too short)") && ok;
	return ok;
}

static const struct {
	bool (*fn)(void);
	const char *name;
} tests[] = {
	{ good_btf_is_read,		"good BTF is read" },
	{ btf_in_elf_is_read,		"BTF in an ELF .BTF section is read" },
	{ damaged_btf_is_refused,	"damaged BTF is refused with a message" },
};

int main(void)
{
	unsigned int i;
	int fd;

	fd = mkstemp(path);
	if (fd < 0)
		ksft_exit_fail_perror("mkstemp");
	close(fd);
	ksft_print_header();
	ksft_set_plan(ARRAY_SIZE(tests));
	for (i = 0; i < ARRAY_SIZE(tests); i++)
		ksft_test_result(tests[i].fn(), "%s\n", tests[i].name);
	unlink(path);
	ksft_finished();
}
