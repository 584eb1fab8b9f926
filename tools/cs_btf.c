// SPDX-License-Identifier: GPL-2.0
/*
 * cs_btf: a small reader of a kernel's BTF, for closestat --check-kernel.
 *
 * The format is the kernel's (include/uapi/linux/btf.h, from linux-libc-dev):
 * a header, then a type section of variable-length records, type ids
 * counting from 1 in order, then a string section.  Everything read is
 * checked to lie inside the file: a damaged file is an error, not a crash.
 * BTF in the other byte order, and split BTF (modules), are not read.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_btf.h"

#define CS_BTF_MAX_FILE	(512u << 20)

static int fail(char *err, size_t errlen, const char *fmt, const char *what)
{
	snprintf(err, errlen, fmt, what);
	return -1;
}

static int read_file(const char *path, char **data, size_t *size, char *err,
		     size_t errlen)
{
	size_t cap = 1 << 20, len = 0;
	char *buf = NULL, *p;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (!buf || len == cap) {
			if (buf)
				cap *= 2;
			if (cap > CS_BTF_MAX_FILE) {
				snprintf(err, errlen, "%s: larger than %u MiB",
					 path, CS_BTF_MAX_FILE >> 20);
				goto fail;
			}
			p = realloc(buf, cap);
			if (!p) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			buf = p;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	*data = buf;
	*size = len;
	return 0;
fail:
	free(buf);
	close(fd);
	return -1;
}

/* The .BTF section of an ELF64 file in this machine's byte order. */
static int elf_btf(const char *data, size_t size, size_t *off, size_t *len)
{
	const Elf64_Ehdr *eh = (const void *)data;
	const Elf64_Shdr *sh, *strtab;
	unsigned int i;

	if (size < sizeof(*eh) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shentsize != sizeof(*sh) || eh->e_shoff > size ||
	    eh->e_shnum > (size - eh->e_shoff) / sizeof(*sh) ||
	    eh->e_shstrndx >= eh->e_shnum)
		return -1;
	sh = (const void *)(data + eh->e_shoff);
	strtab = &sh[eh->e_shstrndx];
	if (strtab->sh_offset > size || strtab->sh_size > size - strtab->sh_offset)
		return -1;
	for (i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_name >= strtab->sh_size ||
		    strncmp(data + strtab->sh_offset + sh[i].sh_name, ".BTF",
			    strtab->sh_size - sh[i].sh_name) != 0)
			continue;
		if (sh[i].sh_offset > size || sh[i].sh_size > size - sh[i].sh_offset)
			return -1;
		*off = sh[i].sh_offset;
		*len = sh[i].sh_size;
		return 0;
	}
	return -1;
}

/* Bytes that follow the struct btf_type of a record of @kind, or -1. */
static long record_extra(unsigned int kind, unsigned int vlen)
{
	switch (kind) {
	case BTF_KIND_INT:
		return sizeof(uint32_t);
	case BTF_KIND_PTR:
	case BTF_KIND_FWD:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC:
	case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		return 0;
	case BTF_KIND_ARRAY:
		return sizeof(struct btf_array);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return (long)vlen * sizeof(struct btf_member);
	case BTF_KIND_ENUM:
		return (long)vlen * sizeof(struct btf_enum);
	case BTF_KIND_FUNC_PROTO:
		return (long)vlen * sizeof(struct btf_param);
	case BTF_KIND_VAR:
		return sizeof(struct btf_var);
	case BTF_KIND_DATASEC:
		return (long)vlen * sizeof(struct btf_var_secinfo);
	case BTF_KIND_DECL_TAG:
		return sizeof(struct btf_decl_tag);
	case BTF_KIND_ENUM64:
		return (long)vlen * sizeof(struct btf_enum64);
	default:
		return -1;
	}
}

int cs_btf_open(struct cs_btf *btf, const char *path, char *err, size_t errlen)
{
	const struct btf_header *h;
	const char *types, *p, *end;
	size_t off = 0, len, cap = 0;
	const struct btf_type **v;

	memset(btf, 0, sizeof(*btf));
	if (read_file(path, &btf->data, &btf->size, err, errlen))
		return -1;
	len = btf->size;
	if (len >= SELFMAG && !memcmp(btf->data, ELFMAG, SELFMAG) &&
	    elf_btf(btf->data, btf->size, &off, &len)) {
		fail(err, errlen, "%s: an ELF file without a .BTF section", path);
		goto fail;
	}
	h = (const void *)(btf->data + off);
	if (len < sizeof(*h) || (off & 3)) {
		fail(err, errlen, "%s: not BTF (too short)", path);
		goto fail;
	}
	if (h->magic != BTF_MAGIC || h->version != BTF_VERSION) {
		fail(err, errlen, h->magic == 0x9feb ?
		     "%s: BTF of the other byte order" : "%s: not BTF", path);
		goto fail;
	}
	if (h->hdr_len < sizeof(*h) || h->hdr_len > len ||
	    h->type_off > len - h->hdr_len ||
	    h->type_len > len - h->hdr_len - h->type_off ||
	    h->str_off > len - h->hdr_len ||
	    h->str_len > len - h->hdr_len - h->str_off ||
	    ((h->hdr_len + h->type_off) & 3) || h->str_len == 0) {
		fail(err, errlen, "%s: damaged BTF header", path);
		goto fail;
	}
	types = (const char *)h + h->hdr_len + h->type_off;
	btf->strs = (const char *)h + h->hdr_len + h->str_off;
	btf->str_len = h->str_len;
	if (btf->strs[btf->str_len - 1] != '\0') {
		fail(err, errlen, "%s: damaged BTF strings", path);
		goto fail;
	}

	btf->nr_types = 1;	/* void */
	for (p = types, end = types + h->type_len; p < end;) {
		const struct btf_type *t = (const void *)p;
		long extra;

		if ((size_t)(end - p) < sizeof(*t) ||
		    (extra = record_extra(BTF_INFO_KIND(t->info),
					  BTF_INFO_VLEN(t->info))) < 0 ||
		    (size_t)(end - p) - sizeof(*t) < (size_t)extra) {
			fail(err, errlen, "%s: damaged BTF type section", path);
			goto fail;
		}
		if (btf->nr_types >= cap) {
			cap = cap ? 2 * cap : 65536;
			v = realloc(btf->types, cap * sizeof(*v));
			if (!v) {
				fail(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			btf->types = v;
			btf->types[0] = NULL;
		}
		btf->types[btf->nr_types++] = t;
		p += sizeof(*t) + extra;
	}
	return 0;
fail:
	cs_btf_close(btf);
	return -1;
}

void cs_btf_close(struct cs_btf *btf)
{
	free(btf->types);
	free(btf->data);
	memset(btf, 0, sizeof(*btf));
}

const struct btf_type *cs_btf_type(const struct cs_btf *btf, uint32_t id)
{
	return id && id < btf->nr_types ? btf->types[id] : NULL;
}

unsigned int cs_btf_kind(const struct btf_type *t)
{
	return t ? BTF_INFO_KIND(t->info) : BTF_KIND_UNKN;
}

unsigned int cs_btf_vlen(const struct btf_type *t)
{
	return t ? BTF_INFO_VLEN(t->info) : 0;
}

const char *cs_btf_str(const struct cs_btf *btf, uint32_t off)
{
	return off < btf->str_len ? btf->strs + off : "";
}

uint32_t cs_btf_find(const struct cs_btf *btf, unsigned int kind,
		     const char *name, uint32_t after)
{
	uint32_t id;

	for (id = after + 1; id < btf->nr_types; id++)
		if (BTF_INFO_KIND(btf->types[id]->info) == kind &&
		    !strcmp(cs_btf_str(btf, btf->types[id]->name_off), name))
			return id;
	return 0;
}

static int is_qualifier(unsigned int kind)
{
	return kind == BTF_KIND_CONST || kind == BTF_KIND_VOLATILE ||
	       kind == BTF_KIND_RESTRICT || kind == BTF_KIND_TYPE_TAG;
}

uint32_t cs_btf_skip(const struct cs_btf *btf, uint32_t id, int typedefs)
{
	const struct btf_type *t;
	unsigned int depth;

	/* a bound: a damaged file could loop */
	for (depth = 0; depth < 32 && (t = cs_btf_type(btf, id)); depth++) {
		if (!is_qualifier(cs_btf_kind(t)) &&
		    !(typedefs && cs_btf_kind(t) == BTF_KIND_TYPEDEF))
			break;
		id = t->type;
	}
	return id;
}

static void spell(const struct cs_btf *btf, uint32_t id, char *buf,
		  size_t len, unsigned int depth)
{
	const struct btf_type *t = cs_btf_type(btf, id);
	const char *name = t ? cs_btf_str(btf, t->name_off) : "";
	char inner[256];

	if (!t) {
		snprintf(buf, len, id ? "(type %u?)" : "void", id);
		return;
	}
	if (depth > 8) {
		snprintf(buf, len, "...");
		return;
	}
	switch (cs_btf_kind(t)) {
	case BTF_KIND_PTR:
		spell(btf, t->type, inner, sizeof(inner), depth + 1);
		snprintf(buf, len, "%s%s*", inner,
			 inner[strlen(inner) - 1] == '*' ? "" : " ");
		break;
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
		spell(btf, t->type, inner, sizeof(inner), depth + 1);
		snprintf(buf, len, "%s %s",
			 cs_btf_kind(t) == BTF_KIND_CONST ? "const" : "volatile",
			 inner);
		break;
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		spell(btf, t->type, buf, len, depth + 1);
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
	case BTF_KIND_FWD:
		snprintf(buf, len, "%s %s",
			 cs_btf_kind(t) == BTF_KIND_UNION ? "union" :
			 cs_btf_kind(t) == BTF_KIND_STRUCT ||
			 cs_btf_kind(t) == BTF_KIND_FWD ? "struct" : "enum",
			 *name ? name : "(anonymous)");
		break;
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = (const void *)(t + 1);

		spell(btf, a->type, inner, sizeof(inner), depth + 1);
		snprintf(buf, len, "%s[%u]", inner, a->nelems);
		break;
	}
	case BTF_KIND_FUNC_PROTO:
		snprintf(buf, len, "a function");
		break;
	default:
		snprintf(buf, len, "%s", *name ? name : "(anonymous)");
		break;
	}
}

void cs_btf_spell(const struct cs_btf *btf, uint32_t id, char *buf,
		  size_t len)
{
	spell(btf, id, buf, len, 0);
}
