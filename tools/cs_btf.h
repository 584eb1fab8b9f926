/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cs_btf: read a kernel's BTF (Documentation/bpf/btf.rst), the type
 * information /sys/kernel/btf/vmlinux publishes, or the .BTF section of a
 * vmlinux ELF file.  Only what closestat --check-kernel needs: types by id,
 * lookup by kind and name, and C spellings for messages.
 */
#ifndef CS_BTF_H
#define CS_BTF_H

#include <stddef.h>
#include <stdint.h>
#include <linux/btf.h>

struct cs_btf {
	char *data;			/* the whole file */
	size_t size;
	const char *strs;		/* the string section */
	uint32_t str_len;
	const struct btf_type **types;	/* by id; [0] is void, NULL */
	uint32_t nr_types;		/* ids 0 .. nr_types - 1 */
};

/*
 * Read @path, raw BTF or an ELF file with a .BTF section.  Returns 0, or
 * -1 with a message in @err.
 */
int cs_btf_open(struct cs_btf *btf, const char *path, char *err, size_t errlen);
void cs_btf_close(struct cs_btf *btf);

/* The type @id, or NULL for void and ids out of range. */
const struct btf_type *cs_btf_type(const struct cs_btf *btf, uint32_t id);
unsigned int cs_btf_kind(const struct btf_type *t);
unsigned int cs_btf_vlen(const struct btf_type *t);
/* The name at @off in the string section ("" if none). */
const char *cs_btf_str(const struct cs_btf *btf, uint32_t off);

/* The first type after @after of @kind named @name, or 0 if none. */
uint32_t cs_btf_find(const struct cs_btf *btf, unsigned int kind,
		     const char *name, uint32_t after);

/* @id without typedefs and qualifiers (const, volatile, restrict, tags). */
uint32_t cs_btf_skip(const struct cs_btf *btf, uint32_t id, int typedefs);

/* @id spelled as C would: "struct sock *", "__u16", "const char *". */
void cs_btf_spell(const struct cs_btf *btf, uint32_t id, char *buf,
		  size_t len);

#endif /* CS_BTF_H */
