/* vmcore/vmc — .vmc parsing and validation; see vmc.h and docs/vmc.md. */
#define LOG_TAG HAVM_TAG_VMC
#include "vmcore/vmc/vmc.h"

#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VMC_FILE_MAX (1u << 20)

struct parse_ctx {
	const char *file;   /* for messages */
	char *dir;          /* for relative paths; NULL = none */
	struct havm_err *err;
	struct vmc_config *cfg;
};

/* Formats "FILE:LINE: <elem>: msg" into ctx->err, returns -EINVAL. */
static int fail(struct parse_ctx *ctx, const xmlNode *n, const char *fmt, ...) HAVM_PRINTF(3, 4);
static int fail(struct parse_ctx *ctx, const xmlNode *n, const char *fmt, ...)
{
	char msg[HAVM_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return havm_err_set(ctx->err, HAVM_E_CONFIG, -EINVAL, "%s:%ld: <%s>: %s", ctx->file,
			    n ? xmlGetLineNo(n) : 0L, n ? (const char *)n->name : "?", msg);
}

static bool is_elem(const xmlNode *n)
{
	return n->type == XML_ELEMENT_NODE;
}

/* Copy of attribute @name, NULL if absent. Sets *oom on allocation failure. */
static char *attr(const xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	if (!v)
		return NULL;
	char *s = strdup((const char *)v);
	xmlFree(v);
	return s;
}

/* Text content, trimmed; never NULL on success. */
static char *text(const xmlNode *n)
{
	xmlChar *v = xmlNodeGetContent(n);
	const char *s = v ? (const char *)v : "";
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	size_t len = strlen(s);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	char *r = strndup(s, len);
	xmlFree(v);
	return r;
}

static int check_attrs(struct parse_ctx *ctx, const xmlNode *n, const char *const *allowed)
{
	for (const xmlAttr *a = n->properties; a; a = a->next) {
		bool ok = false;
		for (const char *const *p = allowed; *p; p++)
			ok |= strcmp((const char *)a->name, *p) == 0;
		if (!ok) {
			char list[200] = "";
			for (const char *const *p = allowed; *p; p++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
					 p == allowed ? "" : ", ", *p);
			return fail(ctx, n, "unknown attribute \"%s\", expected %s", (const char *)a->name,
				    *list ? list : "none");
		}
	}
	return 0;
}

static int no_children(struct parse_ctx *ctx, const xmlNode *n)
{
	for (const xmlNode *c = n->children; c; c = c->next)
		if (is_elem(c))
			return fail(ctx, c, "unexpected element inside <%s>", (const char *)n->name);
	return 0;
}

static int oom(struct parse_ctx *ctx)
{
	return havm_err_set(ctx->err, HAVM_E_INTERNAL, -ENOMEM, "%s: out of memory", ctx->file);
}

/* Resolves @p against the .vmc's directory; takes ownership of @p. */
static char *resolve(struct parse_ctx *ctx, char *p)
{
	/* Absolute paths and iscsi:// disk URLs are taken as they are. */
	if (!p || p[0] == '/' || !ctx->dir || strncmp(p, "iscsi://", 8) == 0)
		return p;
	char *r;
	if (asprintf(&r, "%s/%s", ctx->dir, p) < 0)
		r = NULL;
	free(p);
	return r;
}

static int parse_u32(const char *s, uint32_t *out)
{
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* A required, non-empty path attribute or text; resolved. */
static int take_path(struct parse_ctx *ctx, const xmlNode *n, char *raw, const char *what, char **out)
{
	if (!raw || !*raw) {
		free(raw);
		return fail(ctx, n, "%s is empty, expected a path", what);
	}
	if (strlen(raw) >= PATH_MAX) {
		size_t len = strlen(raw);
		free(raw);
		return fail(ctx, n, "%s is %zu bytes long, expected under %d", what, len, PATH_MAX);
	}
	*out = resolve(ctx, raw);
	return *out ? 0 : oom(ctx);
}

/* --- elements ------------------------------------------------------------ */

static int parse_memory(struct parse_ctx *ctx, const xmlNode *n)
{
	static const char *const attrs[] = { "unit", NULL };
	static const struct { const char *name; uint64_t mul; } units[] = {
		{ "B", 1 }, { "KiB", 1024 }, { "MiB", 1u << 20 }, { "GiB", 1u << 30 },
	};
	int rc = check_attrs(ctx, n, attrs);
	if (rc < 0 || (rc = no_children(ctx, n)) < 0)
		return rc;
	char *unit = attr(n, "unit"), *val = text(n);
	uint64_t mul = 0;
	uint32_t v = 0;
	if (!unit) {
		mul = 1u << 20;
	} else {
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcmp(unit, units[i].name) == 0)
				mul = units[i].mul;
		if (!mul)
			rc = fail(ctx, n, "unit \"%s\", expected B, KiB, MiB or GiB", unit);
	}
	if (rc == 0 && (!val || parse_u32(val, &v) < 0))
		rc = fail(ctx, n, "\"%s\" is not a number, expected e.g. 256", val ? val : "");
	if (rc == 0) {
		uint64_t bytes = v * mul;
		if (bytes < VMC_MEMORY_MIN || bytes > VMC_MEMORY_MAX || bytes % 4096)
			rc = fail(ctx, n, "%llu bytes, expected a multiple of 4 KiB from 1 MiB to 3072 MiB",
				  (unsigned long long)bytes);
		else
			ctx->cfg->memory = (uint32_t)bytes;
	}
	free(unit);
	free(val);
	return rc;
}

static int parse_cpu(struct parse_ctx *ctx, const xmlNode *n)
{
	static const char *const attrs[] = { "backend", NULL };
	int rc = check_attrs(ctx, n, attrs);
	if (rc < 0 || (rc = no_children(ctx, n)) < 0)
		return rc;
	char *b = attr(n, "backend");
	if (!b)
		return fail(ctx, n, "attribute backend missing, expected \"interp\" or \"kvm\"");
	if (strcmp(b, "interp") != 0 && strcmp(b, "kvm") != 0) {
		rc = fail(ctx, n, "backend \"%s\", expected \"interp\" or \"kvm\"", b);
		free(b);
		return rc;
	}
	ctx->cfg->cpu_backend = b;
	return 0;
}

static int parse_boot(struct parse_ctx *ctx, const xmlNode *n)
{
	struct vmc_config *cfg = ctx->cfg;
	int rc = check_attrs(ctx, n, (const char *const[]){ NULL });
	if (rc < 0)
		return rc;
	for (const xmlNode *c = n->children; c && rc == 0; c = c->next) {
		if (!is_elem(c))
			continue;
		const char *name = (const char *)c->name;
		char **slot = NULL;
		if (strcmp(name, "kernel") == 0)
			slot = &cfg->kernel;
		else if (strcmp(name, "initrd") == 0)
			slot = &cfg->initrd;
		else if (strcmp(name, "cmdline") == 0)
			slot = &cfg->cmdline;
		else if (strcmp(name, "image") == 0)
			slot = &cfg->image;
		else
			return fail(ctx, c, "unknown element in <boot>, expected kernel, initrd, cmdline or image");
		if (*slot)
			return fail(ctx, c, "given twice, expected at most one");
		if ((rc = no_children(ctx, c)) < 0)
			return rc;
		if (slot == &cfg->image) {
			static const char *const attrs[] = { "load", "entry", NULL };
			if ((rc = check_attrs(ctx, c, attrs)) < 0)
				return rc;
			char *load = attr(c, "load"), *entry = attr(c, "entry");
			cfg->load_addr = 0x100000;
			if (load && parse_u32(load, &cfg->load_addr) < 0)
				rc = fail(ctx, c, "load \"%s\" is not an address, expected e.g. 0x100000", load);
			if (rc == 0 && entry && parse_u32(entry, &cfg->entry) < 0)
				rc = fail(ctx, c, "entry \"%s\" is not an address, expected e.g. 0x100000", entry);
			if (rc == 0 && (cfg->load_addr < 0x2000 || cfg->load_addr % 16))
				rc = fail(ctx, c, "load 0x%x, expected a 16-byte aligned address of at least 0x2000",
					  cfg->load_addr);
			free(load);
			free(entry);
			if (rc < 0)
				return rc;
		}
		if (slot == &cfg->cmdline) {
			*slot = text(c);
			if (!*slot)
				return oom(ctx);
		} else {
			rc = take_path(ctx, c, text(c), "the path", slot);
		}
	}
	if (rc < 0)
		return rc;
	if (cfg->image && (cfg->kernel || cfg->initrd || cfg->cmdline))
		return fail(ctx, n, "has both <image> and <kernel>/<initrd>/<cmdline>, expected one kind of boot");
	if (!cfg->image && !cfg->kernel)
		return fail(ctx, n, "no <kernel> or <image>, expected one of them");
	cfg->boot = cfg->image ? VMC_BOOT_FLAT : VMC_BOOT_LINUX;
	return 0;
}

static int parse_bool(const char *s, bool *out)
{
	if (!strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "1"))
		return *out = true, 0;
	if (!strcmp(s, "no") || !strcmp(s, "false") || !strcmp(s, "0"))
		return *out = false, 0;
	return -1;
}

static int parse_disk(struct parse_ctx *ctx, const xmlNode *n)
{
	static const char *const attrs[] = { "path", "store", "format", "readonly", NULL };
	struct vmc_config *cfg = ctx->cfg;
	int rc = check_attrs(ctx, n, attrs);
	if (rc < 0 || (rc = no_children(ctx, n)) < 0)
		return rc;
	if (cfg->ndisks == VMC_MAX_DISKS)
		return fail(ctx, n, "more than %d disks", VMC_MAX_DISKS);
	struct vmc_disk *d = &cfg->disks[cfg->ndisks];
	char *path = attr(n, "path"), *store = attr(n, "store"), *fmt = attr(n, "format"),
	     *ro = attr(n, "readonly");
	if (!!path == !!store)
		rc = fail(ctx, n, "%s, expected exactly one of path or store", path ? "both path and store" : "neither path nor store");
	else if (!fmt)
		rc = fail(ctx, n, "attribute format missing, expected \"raw\" or \"vhd\"");
	else if (strcmp(fmt, "raw") != 0 && strcmp(fmt, "vhd") != 0)
		rc = fail(ctx, n, "format \"%s\", expected \"raw\" or \"vhd\"", fmt);
	else if (ro && parse_bool(ro, &d->readonly) < 0)
		rc = fail(ctx, n, "readonly \"%s\", expected yes or no", ro);
	else if (store && !*store)
		rc = fail(ctx, n, "store is empty, expected a region name");
	if (rc == 0 && fmt) {
		d->format = strcmp(fmt, "vhd") == 0 ? VMC_DISK_VHD : VMC_DISK_RAW;
		if (path) {
			rc = take_path(ctx, n, path, "path", &d->path);
			path = NULL;
		} else {
			d->store = store;
			store = NULL;
		}
		if (rc == 0)
			cfg->ndisks++;
	}
	free(path);
	free(store);
	free(fmt);
	free(ro);
	return rc;
}

const char *vmc_serial_backend_name(enum vmc_serial_backend b)
{
	switch (b) {
	case VMC_SERIAL_NONE: return "none";
	case VMC_SERIAL_STDIO: return "stdio";
	case VMC_SERIAL_FILE: return "file";
	case VMC_SERIAL_SOCKET: return "socket";
	}
	return "?";
}

static int parse_serial(struct parse_ctx *ctx, const xmlNode *n)
{
	static const char *const attrs[] = { "port", "backend", "path", NULL };
	struct vmc_config *cfg = ctx->cfg;
	int rc = check_attrs(ctx, n, attrs);
	if (rc < 0 || (rc = no_children(ctx, n)) < 0)
		return rc;
	char *port = attr(n, "port"), *backend = attr(n, "backend"), *path = attr(n, "path");
	struct vmc_serial s = { 0 };
	if (!port || strlen(port) != 4 || strncmp(port, "com", 3) != 0 || port[3] < '1' || port[3] > '4')
		rc = fail(ctx, n, "port \"%s\", expected com1, com2, com3 or com4", port ? port : "");
	if (rc == 0 && port) {
		s.port = (unsigned)(port[3] - '1');
		for (unsigned i = 0; i < cfg->nserials; i++)
			if (cfg->serials[i].port == s.port)
				rc = fail(ctx, n, "port %s given twice", port);
	}
	if (rc == 0) {
		if (!backend)
			rc = fail(ctx, n, "attribute backend missing, expected stdio, file, socket or none");
		else if (!strcmp(backend, "stdio"))
			s.backend = VMC_SERIAL_STDIO;
		else if (!strcmp(backend, "file"))
			s.backend = VMC_SERIAL_FILE;
		else if (!strcmp(backend, "socket"))
			s.backend = VMC_SERIAL_SOCKET;
		else if (!strcmp(backend, "none"))
			s.backend = VMC_SERIAL_NONE;
		else
			rc = fail(ctx, n, "backend \"%s\", expected stdio, file, socket or none", backend);
	}
	if (rc == 0) {
		bool needs = s.backend == VMC_SERIAL_FILE || s.backend == VMC_SERIAL_SOCKET;
		if (needs && !path)
			rc = fail(ctx, n, "backend %s needs a path attribute", backend);
		else if (!needs && path)
			rc = fail(ctx, n, "backend %s takes no path, found \"%s\"", backend, path);
		else if (needs) {
			rc = take_path(ctx, n, path, "path", &s.path);
			path = NULL;
		}
	}
	if (rc == 0)
		cfg->serials[cfg->nserials++] = s;
	free(port);
	free(backend);
	free(path);
	return rc;
}

static int parse_control(struct parse_ctx *ctx, const xmlNode *n)
{
	static const char *const attrs[] = { "path", NULL };
	int rc = check_attrs(ctx, n, attrs);
	if (rc < 0 || (rc = no_children(ctx, n)) < 0)
		return rc;
	char *p = attr(n, "path");
	if (!p)
		return fail(ctx, n, "attribute path missing, expected a socket path");
	return take_path(ctx, n, p, "path", &ctx->cfg->control);
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_' || *p == '.'))
			return false;
	return s[0] != '.';
}

static int parse_vm(struct parse_ctx *ctx, const xmlNode *root)
{
	static const char *const attrs[] = { "name", NULL };
	struct vmc_config *cfg = ctx->cfg;
	if (strcmp((const char *)root->name, "vm") != 0)
		return fail(ctx, root, "root element, expected <vm>");
	int rc = check_attrs(ctx, root, attrs);
	if (rc < 0)
		return rc;
	cfg->name = attr(root, "name");
	if (!cfg->name)
		return fail(ctx, root, "attribute name missing");
	if (!valid_name(cfg->name))
		return fail(ctx, root, "name \"%s\", expected 1-64 characters of A-Z a-z 0-9 . _ - (not starting with .)",
			    cfg->name);
	bool seen_mem = false, seen_cpu = false, seen_boot = false;
	for (const xmlNode *c = root->children; c; c = c->next) {
		if (c->type == XML_TEXT_NODE) {
			for (const xmlChar *p = c->content; p && *p; p++)
				if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
					return fail(ctx, root, "stray text inside <vm>");
			continue;
		}
		if (!is_elem(c))
			continue;
		const char *name = (const char *)c->name;
		bool *once = NULL;
		if (!strcmp(name, "memory"))
			once = &seen_mem, rc = seen_mem ? 1 : parse_memory(ctx, c);
		else if (!strcmp(name, "cpu"))
			once = &seen_cpu, rc = seen_cpu ? 1 : parse_cpu(ctx, c);
		else if (!strcmp(name, "boot"))
			once = &seen_boot, rc = seen_boot ? 1 : parse_boot(ctx, c);
		else if (!strcmp(name, "disk"))
			rc = parse_disk(ctx, c);
		else if (!strcmp(name, "serial"))
			rc = parse_serial(ctx, c);
		else if (!strcmp(name, "control"))
			rc = cfg->control ? 1 : parse_control(ctx, c);
		else
			return fail(ctx, c, "unknown element, expected memory, cpu, boot, disk, serial or control");
		if (rc == 1)
			return fail(ctx, c, "given twice, expected at most one");
		if (rc < 0)
			return rc;
		if (once)
			*once = true;
	}
	if (!seen_mem)
		return fail(ctx, root, "no <memory> element, expected e.g. <memory unit=\"MiB\">64</memory>");
	if (!seen_boot)
		return fail(ctx, root, "no <boot> element, expected <boot> with <kernel> or <image>");
	if (!cfg->cpu_backend && !(cfg->cpu_backend = strdup("interp")))
		return oom(ctx);
	return 0;
}

/* --- entry points -------------------------------------------------------- */

void vmc_free(struct vmc_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->file);
	free(cfg->name);
	free(cfg->cpu_backend);
	free(cfg->kernel);
	free(cfg->initrd);
	free(cfg->cmdline);
	free(cfg->image);
	for (unsigned i = 0; i < VMC_MAX_DISKS; i++) {
		free(cfg->disks[i].path);
		free(cfg->disks[i].store);
	}
	for (unsigned i = 0; i < VMC_MAX_SERIALS; i++)
		free(cfg->serials[i].path);
	free(cfg->control);
	free(cfg);
}

int vmc_parse(const char *xml, size_t len, const char *file, struct vmc_config **out,
	      struct havm_err *err)
{
	const char *fname = file ? file : "<vmc>";
	if (len > VMC_FILE_MAX || len > INT_MAX)
		return havm_err_set(err, HAVM_E_CONFIG, -EFBIG, "%s: %zu bytes, expected at most %u", fname,
				    len, VMC_FILE_MAX);
	struct parse_ctx ctx = { .file = fname, .err = err };
	ctx.cfg = calloc(1, sizeof(*ctx.cfg));
	if (!ctx.cfg)
		return oom(&ctx);
	int rc = 0;
	if (file) {
		const char *slash = strrchr(file, '/');
		ctx.dir = slash ? strndup(file, (size_t)(slash - file)) : strdup(".");
		ctx.cfg->file = strdup(file);
		if (!ctx.dir || !ctx.cfg->file) {
			rc = oom(&ctx);
			goto out;
		}
		if (!ctx.dir[0]) {   /* "/x.vmc" */
			free(ctx.dir);
			ctx.dir = strdup("/");
		}
	}
	xmlDoc *doc = xmlReadMemory(xml, (int)len, fname, NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		const xmlError *e = xmlGetLastError();
		char msg[200] = "not well-formed XML";
		if (e && e->message) {
			snprintf(msg, sizeof(msg), "%s", e->message);
			msg[strcspn(msg, "\n")] = 0;
		}
		rc = havm_err_set(err, HAVM_E_FORMAT, -EINVAL, "%s:%d: %s", fname, e ? e->line : 0, msg);
		goto out;
	}
	const xmlNode *root = xmlDocGetRootElement(doc);
	rc = root ? parse_vm(&ctx, root)
		  : havm_err_set(err, HAVM_E_FORMAT, -EINVAL, "%s: empty document, expected <vm>", fname);
	xmlFreeDoc(doc);
out:
	free(ctx.dir);
	if (rc < 0) {
		vmc_free(ctx.cfg);
		return rc;
	}
	*out = ctx.cfg;
	return 0;
}

int vmc_load(const char *path, struct vmc_config **out, struct havm_err *err)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return havm_err_set(err, errno == ENOENT ? HAVM_E_NOTFOUND : HAVM_E_IO, -errno, "%s: %s",
				    path, strerror(errno));
	char *buf = malloc(VMC_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "%s: out of memory", path);
	}
	size_t n = fread(buf, 1, VMC_FILE_MAX + 1, f);
	int rc = ferror(f) ? havm_err_set(err, HAVM_E_IO, -EIO, "%s: read error", path) : 0;
	fclose(f);
	if (rc == 0)
		rc = vmc_parse(buf, n, path, out, err);
	free(buf);
	return rc;
}
