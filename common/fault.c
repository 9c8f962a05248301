/* havm — fault points; see fault.h. Always compiled so test programs link,
 * but only HAVM_TESTING builds place calls to it. */
#include "common/fault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct {
	int loaded;        /* environment parsed */
	char name[64];     /* "" = disarmed */
	unsigned nth;
	unsigned hits;
	enum havm_fault_action action;
} fp;

static void load_env(void)
{
	fp.loaded = 1;
	const char *spec = getenv("HAVM_FAULT_AT");
	if (!spec || !*spec)
		return;
	/* <name>:<n>[:<action>] */
	char name[64];
	const char *c1 = strchr(spec, ':');
	char *end = NULL;
	unsigned long nth = c1 ? strtoul(c1 + 1, &end, 10) : 0;
	const char *act = end && *end == ':' ? end + 1 : "crash";
	if (!c1 || c1 == spec || (size_t)(c1 - spec) >= sizeof(name) || nth == 0 ||
	    nth > 1000000000ul || !end || (*end && *end != ':') ||
	    (strcmp(act, "crash") != 0 && strcmp(act, "fail") != 0)) {
		fprintf(stderr, "HAVM_FAULT_AT=%s: expected <name|*>:<n>[:crash|:fail]\n", spec);
		_exit(2);
	}
	snprintf(name, sizeof(name), "%.*s", (int)(c1 - spec), spec);
	havm_fault_arm(name, (unsigned)nth, strcmp(act, "fail") == 0 ? HAVM_FAULT_FAIL : HAVM_FAULT_CRASH);
}

void havm_fault_arm(const char *name, unsigned nth, enum havm_fault_action action)
{
	fp.loaded = 1;
	snprintf(fp.name, sizeof(fp.name), "%s", name);
	fp.nth = nth;
	fp.hits = 0;
	fp.action = action;
}

void havm_fault_disarm(void)
{
	fp.loaded = 1;
	fp.name[0] = '\0';
	fp.hits = 0;
}

unsigned havm_fault_hits(void)
{
	return fp.hits;
}

int havm_fault_hit(const char *name)
{
	if (!fp.loaded)
		load_env();
	if (!fp.name[0])
		return 0;
	if (strcmp(fp.name, "*") != 0 && strcmp(fp.name, name) != 0)
		return 0;
	if (++fp.hits != fp.nth)
		return 0;
	if (fp.action == HAVM_FAULT_CRASH)
		_exit(HAVM_FAULT_EXIT);
	return 1;
}
