/* havm — the progress bar (progress.h). */
#include "havm/progress.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define WIDTH 40

void havm_progress_init(struct havm_progress *p, const char *label)
{
	p->label = label;
	p->last = 101;
	p->enabled = isatty(STDOUT_FILENO);
}

void havm_progress_cb(void *arg, uint64_t done, uint64_t total)
{
	struct havm_progress *p = arg;
	if (!p->enabled)
		return;
	unsigned pct = total ? (unsigned)(done >= total ? 100 : done * 100 / total) : 100;
	if (pct == p->last)
		return;
	p->last = pct;
	char bar[WIDTH + 1];
	memset(bar, '#', pct * WIDTH / 100);
	memset(bar + pct * WIDTH / 100, ' ', WIDTH - pct * WIDTH / 100);
	bar[WIDTH] = '\0';
	printf("\r%s [%s] %3u%%", p->label ? p->label : "", bar, pct);
	if (pct == 100)
		printf("\n");
	fflush(stdout);
}
