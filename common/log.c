/* havm — qb_log set-up shared by every program; see log.h. */
#include "common/log.h"

#include <stdlib.h>
#include <string.h>

static const char *const tag_names[HAVM_TAG_COUNT] = {
	[HAVM_TAG_NONE] = "-",     [HAVM_TAG_MAIN] = "MAIN",
	[HAVM_TAG_CPU] = "CPU",    [HAVM_TAG_DEV] = "DEV",
	[HAVM_TAG_BLK] = "BLK",    [HAVM_TAG_VHD] = "VHD",
	[HAVM_TAG_VSV] = "VSV",    [HAVM_TAG_VMC] = "VMC",
	[HAVM_TAG_CTL] = "CTL",    [HAVM_TAG_ISCSI] = "ISCSI",
	[HAVM_TAG_PR] = "PR",      [HAVM_TAG_STORE] = "STORE",
	[HAVM_TAG_QUORUM] = "QUORUM", [HAVM_TAG_HAVM] = "HAVM",
	[HAVM_TAG_AGENT] = "AGENT", [HAVM_TAG_FENCE] = "FENCE",
};

static unsigned active_targets;

const char *havm_log_tag_name(unsigned tag)
{
	return tag < HAVM_TAG_COUNT ? tag_names[tag] : "-";
}

static const char *stringify_tags(uint32_t tags)
{
	return havm_log_tag_name(tags);
}

static void set_filter(int32_t target, int level)
{
	qb_log_filter_ctl(target, QB_LOG_FILTER_CLEAR_ALL, QB_LOG_FILTER_FILE, "*", LOG_TRACE);
	qb_log_filter_ctl(target, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", (uint8_t)level);
}

void havm_log_init(const char *ident, unsigned targets, int level)
{
	const char *dbg = getenv("HAVM_DEBUG");
	if (dbg && strcmp(dbg, "1") == 0)
		level = LOG_DEBUG;

	qb_log_init(ident, LOG_DAEMON, (uint8_t)level);
	qb_log_tags_stringify_fn_set(stringify_tags);
	active_targets = targets;

	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, (targets & HAVM_LOG_SYSLOG) ? QB_TRUE : QB_FALSE);
	if (targets & HAVM_LOG_SYSLOG) {
		set_filter(QB_LOG_SYSLOG, level);
		qb_log_format_set(QB_LOG_SYSLOG, "%g: %b");
	}
	qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, (targets & HAVM_LOG_STDERR) ? QB_TRUE : QB_FALSE);
	if (targets & HAVM_LOG_STDERR) {
		set_filter(QB_LOG_STDERR, level);
		qb_log_format_set(QB_LOG_STDERR, "%N[%P] %4g %-7p %b");
	}
	if (targets & HAVM_LOG_BLACKBOX) {
		qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_SIZE, 1024 * 1024);
		qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_ENABLED, QB_TRUE);
		set_filter(QB_LOG_BLACKBOX, LOG_DEBUG);
	}
}

void havm_log_set_level(int level)
{
	if (active_targets & HAVM_LOG_STDERR)
		set_filter(QB_LOG_STDERR, level);
	if (active_targets & HAVM_LOG_SYSLOG)
		set_filter(QB_LOG_SYSLOG, level);
}

void havm_log_blackbox_dump(const char *path)
{
	if (active_targets & HAVM_LOG_BLACKBOX)
		qb_log_blackbox_write_to_file(path);
}

void havm_log_fini(void)
{
	qb_log_fini();
	active_targets = 0;
}
