/* havm — private: the corosync calls behind quorum.c, through one table so
 * unit tests can stand in for corosync (every error path, no daemon). */
#ifndef HAVM_HAVM_QUORUM_INT_H
#define HAVM_HAVM_QUORUM_INT_H

#include <corosync/cmap.h>
#include <corosync/quorum.h>

struct havm_corosync_ops {
	cs_error_t (*quorum_initialize)(quorum_handle_t *h, quorum_callbacks_t *cb, uint32_t *type);
	cs_error_t (*quorum_getquorate)(quorum_handle_t h, int *quorate);
	cs_error_t (*quorum_finalize)(quorum_handle_t h);
	cs_error_t (*cmap_initialize)(cmap_handle_t *h);
	cs_error_t (*cmap_get_string)(cmap_handle_t h, const char *key, char **str);
	cs_error_t (*cmap_get_uint32)(cmap_handle_t h, const char *key, uint32_t *u32);
	cs_error_t (*cmap_finalize)(cmap_handle_t h);
};

extern struct havm_corosync_ops havm_corosync;

/* Restores the real corosync calls. */
void havm_corosync_reset(void);

#endif
